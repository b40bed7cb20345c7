import XCTest
@testable import MLCore
@testable import PregatedMoE

/// The discrete-event simulation against the hand-computed vector of Docs/pregated-moe.md, and the memory formula
/// against the paper's base-8 byte counts.
final class SimulationTests: XCTestCase {
    /// Brief's vector: compute 1.0 ms per block, 0.75 ms per expert transfer, L = 6, E = 8, one active
    /// expert per block, one decode step.
    /// - GPU-only: 6 × 1.0 = 6 ms → 1.000 per block.
    /// - OnDemand: each block fetches its expert (0.75) then computes (1.0) → 1.750.
    /// - Pre-gated: block 0 fetches on demand (0.75), every later fetch (0.75) hides behind the previous
    ///   block's compute (1.0): 0.75 + 6 × 1.0 = 6.75 → 1.125.
    /// - Prefetch-all: block 0 fetches all 8 (6.0) and computes 6–7; block n's 8 transfers run
    ///   6n..6(n+1) on the FIFO link, so block n computes 6(n+1)..6(n+1)+1, the last ending at 37 → 6.167.
    func testBriefVector() {
        let sim = OffloadSimulation(blocks: 6, experts: 8, expertBytes: 1, blockComputeSeconds: 1e-3, expertFetchSeconds: 0.75e-3)
        let routes = [[[3], [0], [7], [1], [1], [5]]]
        let expected: [OffloadPolicy: Double] = [.gpuOnly: 1.000, .onDemand: 1.750, .pregated: 1.125, .prefetchAll: 37.0 / 6]
        for (policy, ms) in expected {
            XCTAssertEqual(sim.run(policy: policy, routes: routes).secondsPerBlock * 1000, ms, accuracy: 1e-9, "\(policy)")
        }
        let prefetch = sim.run(policy: .prefetchAll, routes: routes)
        XCTAssertEqual(prefetch.transfers, 48)
        XCTAssertEqual(sim.run(policy: .pregated, routes: routes).transfers, 6)
        // Pre-gated: 0.75 ms stalled in block 0 only; 5 of 6 transfers hidden.
        let pregated = sim.run(policy: .pregated, routes: routes)
        XCTAssertEqual(pregated.stallSeconds, 0.75e-3, accuracy: 1e-12)
        XCTAssertEqual(pregated.overlapRatio, 1 - 0.75 / 4.5, accuracy: 1e-9)
    }

    /// Beam-4 routing (the reference's `--beam_width 4`): each step's active set is the union of four
    /// beams' experts. L = 2, E = 8, compute 1 ms, fetch 0.75 ms per expert, one step:
    /// beams route block 0 to {0}, {1}, {0}, {2} and block 1 to {5}, {1}, {5}, {5} → unions {0, 1, 2}
    /// and {1, 5}.
    /// - OnDemand: 3 × 0.75 + 1, then 2 × 0.75 + 1 = 5.75 ms → 2.875 per block.
    /// - Pre-gated: block 0 fetches 3 on demand (0–2.25) and computes 2.25–3.25; at 2.25 it issues
    ///   block 1's 2 fetches (2.25–3.75); block 1 computes 3.75–4.75 → 2.375 per block.
    /// - GPU-only: 1 per block; the single-beam step (beam 0 only) gives 1.75 / 1.375.
    func testBeamFourRoutingOnHandMadeTrace() {
        let beams: [[[[Int]]]] = [[[[0], [5]]], [[[1], [1]]], [[[0], [5]]], [[[2], [5]]]]
        let routes = RoutingTrace.union(beams: beams)
        XCTAssertEqual(routes, [[[0, 1, 2], [1, 5]]])
        let sim = OffloadSimulation(blocks: 2, experts: 8, expertBytes: 1, blockComputeSeconds: 1e-3, expertFetchSeconds: 0.75e-3)
        let expected: [OffloadPolicy: Double] = [.gpuOnly: 1.0, .onDemand: 2.875, .pregated: 2.375]
        for (policy, ms) in expected {
            XCTAssertEqual(sim.run(policy: policy, routes: routes).secondsPerBlock * 1000, ms, accuracy: 1e-9, "\(policy)")
        }
        XCTAssertEqual(sim.run(policy: .pregated, routes: routes).transfers, 5)
        XCTAssertEqual(sim.run(policy: .onDemand, routes: routes).peakResidentBytes, 3, "at most the 3 experts of block 0 at once")
        let single = RoutingTrace.union(beams: [beams[0]])
        XCTAssertEqual(sim.run(policy: .onDemand, routes: single).secondsPerBlock * 1000, 1.75, accuracy: 1e-9)
        XCTAssertEqual(sim.run(policy: .pregated, routes: single).secondsPerBlock * 1000, 1.375, accuracy: 1e-9)
    }

    /// The paper's base-8 expert bytes (L = 6, E = 8, max active 4, 18,874,368 B per float32 expert):
    /// GPU-only 48, Prefetch 16, OnDemand 4, Pre-gated 8 experts.
    func testMemoryFormulaMatchesPaper() {
        let b = SwitchShape.base8.expertBytes()
        XCTAssertEqual(b, 18_874_368, "2 · 768 · 3072 · 4 B: float32 gives the paper's 18.9 MB")
        let paper: [OffloadPolicy: Int] = [.gpuOnly: 905_969_664, .prefetchAll: 301_989_888, .onDemand: 75_497_472, .pregated: 150_994_944]
        for (policy, bytes) in paper {
            XCTAssertEqual(ExpertMemory.peakBytes(policy: policy, blocks: 6, experts: 8, maxActive: 4, expertBytes: b), bytes, "\(policy)")
        }
        // The simulation's measured peak equals the formula when every block has 4 active experts.
        var rng = RandomGenerator(seed: 3)
        let routes = RoutingTrace.synthetic(steps: 3, blocks: 6, experts: 8, k: 4, batch: 1, distribution: .uniform, rng: &rng)
        let sim = OffloadSimulation(blocks: 6, experts: 8, expertBytes: b, blockComputeSeconds: 0.95e-3,
                                    expertFetchSeconds: LinkModel.pcie.transferSeconds(bytes: b))
        for (policy, bytes) in paper {
            XCTAssertEqual(sim.run(policy: policy, routes: routes).peakResidentBytes, bytes, "\(policy)")
        }
    }

    /// Every compute starts after all transfers for its block have ended; the last block issues no
    /// prefetch; prefetches come only from the block before.
    func testCausalityAndNoPrefetchFromLastBlock() {
        var rng = RandomGenerator(seed: 5)
        let routes = RoutingTrace.synthetic(steps: 4, blocks: 5, experts: 16, k: 2, batch: 3, distribution: .zipf(exponent: 1.2), rng: &rng)
        let sim = OffloadSimulation(blocks: 5, experts: 16, expertBytes: 10, blockComputeSeconds: 1e-3, expertFetchSeconds: 0.4e-3)
        for policy in OffloadPolicy.allCases {
            let events = sim.run(policy: policy, routes: routes).events
            for c in events where c.kind == .compute {
                let fetches = events.filter { $0.kind != .compute && $0.step == c.step && $0.block == c.block }
                for f in fetches { XCTAssertLessThanOrEqual(f.end, c.start + 1e-15, "\(policy) step \(c.step) block \(c.block)") }
                if policy == .pregated || policy == .onDemand {
                    XCTAssertEqual(Set(fetches.compactMap(\.expert)), Set(routes[c.step][c.block]), "\(policy) fetches exactly the active experts")
                }
            }
            XCTAssertFalse(events.contains { $0.kind == .prefetch && $0.issuedBy == 4 }, "\(policy): last block prefetched")
            XCTAssertTrue(events.filter { $0.kind == .prefetch }.allSatisfy { $0.block == $0.issuedBy + 1 })
        }
    }

    /// The paper's ordering at batch 1 on PCIe for all three shapes: GPU-only < Pre-gated < OnDemand
    /// < Prefetch; the pre-gated advantage over OnDemand shrinks as the batch grows (more experts active).
    func testPaperOrderingAndBatchTrend() {
        for shape in SwitchShape.paperModels {
            var rng = RandomGenerator(seed: 1)
            let b = shape.expertBytes()
            let sim = OffloadSimulation(blocks: shape.moeBlocks, experts: shape.experts, expertBytes: b, blockComputeSeconds: 0.95e-3,
                                        expertFetchSeconds: LinkModel.pcie.transferSeconds(bytes: b))
            let routes = RoutingTrace.synthetic(steps: 16, blocks: shape.moeBlocks, experts: shape.experts, k: 1, batch: 1, distribution: .uniform, rng: &rng)
            let t = Dictionary(uniqueKeysWithValues: OffloadPolicy.allCases.map { ($0, sim.run(policy: $0, routes: routes).secondsPerBlock) })
            XCTAssertLessThan(t[.gpuOnly]!, t[.pregated]!, shape.name)
            XCTAssertLessThan(t[.pregated]!, t[.onDemand]!, shape.name)
            XCTAssertLessThan(t[.onDemand]!, t[.prefetchAll]!, shape.name)
        }
        let b = SwitchShape.base8.expertBytes()
        let sim = OffloadSimulation(blocks: 6, experts: 8, expertBytes: b, blockComputeSeconds: 0.95e-3,
                                    expertFetchSeconds: LinkModel.pcie.transferSeconds(bytes: b))
        var ratios: [Double] = []
        for batch in [1, 16] {
            var rng = RandomGenerator(seed: 2)
            let routes = RoutingTrace.synthetic(steps: 16, blocks: 6, experts: 8, k: 1, batch: batch, distribution: .uniform, rng: &rng)
            ratios.append(sim.run(policy: .onDemand, routes: routes).secondsPerBlock / sim.run(policy: .pregated, routes: routes).secondsPerBlock)
        }
        XCTAssertGreaterThan(ratios[0], 1)
        XCTAssertLessThan(ratios[1], ratios[0])
    }

    /// Traces round-trip through HDF5 and batch by union; bad traces are rejected.
    func testTraceFile() throws {
        let path = NSTemporaryDirectory() + "trace-\(UUID().uuidString).h5"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let routes = [[[0, 2], [1]], [[3], [1, 2]], [[0], [0]]]
        try RoutingTrace.write(routes, experts: 4, to: path, source: "test")
        XCTAssertEqual(try RoutingTrace.read(path, blocks: 2, experts: 4, batch: 1), routes)
        XCTAssertEqual(try RoutingTrace.read(path, blocks: 2, experts: 8, batch: 2), [[[0, 2, 3], [1, 2]]])
        XCTAssertEqual(try RoutingTrace.read(path, blocks: 1, experts: 4, batch: 1), [[[0, 2]], [[3]], [[0]]])
        XCTAssertThrowsError(try RoutingTrace.read(path, blocks: 3, experts: 4, batch: 1))
        XCTAssertThrowsError(try RoutingTrace.read(path, blocks: 2, experts: 2, batch: 1))
        // Folded: experts {0, 1} → 0 and {2, 3} → 1; 3 does not divide 4.
        XCTAssertEqual(try RoutingTrace.read(path, blocks: 2, experts: 2, batch: 1, fold: true), [[[0, 1], [0]], [[1], [0, 1]], [[0], [0]]])
        XCTAssertThrowsError(try RoutingTrace.read(path, blocks: 2, experts: 3, batch: 1, fold: true))
    }
}
