import Foundation
import MLCore

/// Routes for the simulation: per decode step and MoE block, the experts active in the block (the
/// union over the batch's tokens). Synthetic (uniform or Zipf popularity) or recorded by `run`.
public enum RoutingTrace {
    /// How synthetic tokens pick experts.
    public enum Distribution: Sendable, Equatable {
        /// Every expert equally likely.
        case uniform
        /// Expert popularity ∝ 1 / rank^s, the ranks permuted per block (skewed routing).
        case zipf(exponent: Double)
    }

    /// `steps` decode steps of `batch` tokens, each choosing `k` distinct experts of E in each of
    /// `blocks` blocks; per step and block, the sorted union.
    public static func synthetic(steps: Int, blocks: Int, experts: Int, k: Int, batch: Int,
                                 distribution: Distribution, rng: inout RandomGenerator) -> [[[Int]]] {
        precondition(k >= 1 && k <= experts && batch >= 1, "RoutingTrace: k \(k), E \(experts), batch \(batch)")
        var weights = [Double](repeating: 1, count: experts)
        if case .zipf(let s) = distribution { weights = (0..<experts).map { 1 / Foundation.pow(Double($0 + 1), s) } }
        let permutations: [[Int]] = (0..<blocks).map { _ in
            var p = Array(0..<experts)
            for i in stride(from: experts - 1, to: 0, by: -1) { p.swapAt(i, rng.nextInt(below: i + 1)) }
            return p
        }
        return (0..<steps).map { _ in
            (0..<blocks).map { b in
                var active = Set<Int>()
                for _ in 0..<batch {
                    var chosen = Set<Int>()
                    while chosen.count < k {
                        let free = (0..<experts).filter { !chosen.contains($0) }
                        let total = free.reduce(0) { $0 + weights[$1] }
                        var u = rng.uniformDouble() * total, pick = free.last!
                        for r in free { u -= weights[r]; if u <= 0 { pick = r; break } }
                        chosen.insert(permutations[b][pick])
                    }
                    active.formUnion(chosen)
                }
                return active.sorted()
            }
        }
    }

    /// Writes a trace recorded by `run`: dataset `routes` uint8 [steps, layers, E] (1 = active), root
    /// attributes `format` = "pregated-moe-trace", `experts`, `source`.
    /// - Throws: `HDF5Error`.
    public static func write(_ routes: [[[Int]]], experts: Int, to path: String, source: String) throws {
        let layers = routes.first?.count ?? 0
        var mask = [UInt8](repeating: 0, count: routes.count * layers * experts)
        for (s, step) in routes.enumerated() {
            for (l, active) in step.enumerated() { for e in active { mask[(s * layers + l) * experts + e] = 1 } }
        }
        try HDF5File.createAtomically(path) { file in
            try file.root.attributes.set("format", "pregated-moe-trace")
            try file.root.attributes.set("experts", .int(experts))
            try file.root.attributes.set("source", .string(source))
            try file.root.createDataset("routes", shape: [routes.count, layers, experts], data: mask)
        }
    }

    /// Reads a trace and maps it onto `blocks` blocks of `experts` experts, batching `batch`
    /// consecutive steps into one (union): block n takes the trace's layer ⌊n·layers / blocks⌋. With
    /// `fold`, a trace with E' > E experts per layer, E dividing E', maps expert x onto ⌊x·E / E'⌋
    /// (groups of E'/E neighbouring experts become one).
    /// - Throws: `PregatedMoEError.badTrace` (wrong format, more experts than the model unless folded
    ///   onto a divisor, fewer layers than blocks, fewer steps than the batch); `HDF5Error`.
    public static func read(_ path: String, blocks: Int, experts: Int, batch: Int, fold: Bool = false) throws -> [[[Int]]] {
        let file = try HDF5File(path: path, mode: .readOnly)
        let attributes = file.root.attributes
        guard try attributes.contains("format"), try attributes.string("format") == "pregated-moe-trace",
              try file.root.contains("routes") else {
            throw PregatedMoEError.badTrace(file: path, reason: "no pregated-moe-trace format attribute or routes dataset (a routing trace records one per inference run)")
        }
        let ds = try file.dataset("routes")
        guard ds.rank == 3 else { throw PregatedMoEError.badTrace(file: path, reason: "routes has shape \(ds.shape), expected [steps, layers, E]") }
        let (steps, layers, e) = (ds.shape[0], ds.shape[1], ds.shape[2])
        guard e <= experts || (fold && e % experts == 0) else {
            throw PregatedMoEError.badTrace(file: path, reason: "\(e) experts per layer, the simulated model has \(experts)" + (fold ? " (and \(experts) does not divide \(e))" : ""))
        }
        let group = e > experts ? e / experts : 1
        guard layers >= blocks else { throw PregatedMoEError.badTrace(file: path, reason: "\(layers) layers, fewer than the \(blocks) simulated blocks") }
        guard steps >= batch else { throw PregatedMoEError.badTrace(file: path, reason: "\(steps) steps, fewer than the batch \(batch)") }
        let mask = try ds.read(as: UInt8.self)
        return stride(from: 0, to: steps - batch + 1, by: batch).map { s0 in
            (0..<blocks).map { b in
                let l = b * layers / blocks
                var active = Set<Int>()
                for s in s0..<(s0 + batch) { for x in 0..<e where mask[(s * layers + l) * e + x] != 0 { active.insert(x / group) } }
                return active.sorted()
            }
        }
    }

    /// Beam search's routing per decode step (the reference benchmarks "batch 1" with
    /// `--beam_width 4`: every step decodes one token per beam): per step and block, the sorted union
    /// of the beams' experts.
    /// - Parameter beams: [beam][step][block] active experts of each beam's token.
    /// - Precondition: at least one beam; all beams have the same steps and blocks.
    public static func union(beams: [[[[Int]]]]) -> [[[Int]]] {
        precondition(!beams.isEmpty, "RoutingTrace: no beams")
        let steps = beams[0].count
        precondition(beams.allSatisfy { $0.count == steps }, "RoutingTrace: beams with different step counts")
        return (0..<steps).map { s in
            let blocks = beams[0][s].count
            precondition(beams.allSatisfy { $0[s].count == blocks }, "RoutingTrace: step \(s) has different block counts across beams")
            return (0..<blocks).map { b in Array(Set(beams.flatMap { $0[s][b] })).sorted() }
        }
    }
}
