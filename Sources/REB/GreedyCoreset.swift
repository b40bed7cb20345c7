import MLCore

/// PatchCore's approximate greedy coreset (Roth et al. 2022, §3.2, Algorithm 1; patchcore/sampler.py
/// `ApproximateGreedyCoresetSampler`): the features are projected to `projectionDimension` by a
/// random Gaussian matrix (Johnson–Lindenstrauss), the minimum distance of every point to the coreset
/// starts as its mean Euclidean distance to `startPoints` random points, then the farthest point is
/// added `count` times, each time lowering every point's minimum by its distance to the new member.
public enum GreedyCoreset {
    /// Indices (in selection order) of a coreset of ⌈ratio · N⌉ rows of `features` [N, D].
    /// - Parameters:
    ///   - ratio: fraction kept, in (0, 1]; 1 returns every row in order.
    ///   - projectionDimension: width of the random projection (128 in PatchCore).
    ///   - startPoints: random starting points of the approximate minimum distances (10 in PatchCore).
    /// - Throws: `REBError.invalidArgument` for a ratio outside (0, 1], `.emptySet` for no row.
    public static func select(_ features: Tensor, ratio: Double, projectionDimension: Int = 128, startPoints: Int = 10,
                              rng: inout RandomGenerator) throws -> [Int] {
        guard ratio > 0, ratio <= 1 else { throw REBError.invalidArgument("the coreset ratio \(ratio) must be in (0, 1]") }
        let n = features.shape[0], d = features.shape[1]
        guard n > 0 else { throw REBError.emptySet(what: "the memory bank", reason: "no patch features") }
        let target = Swift.min(n, Int((ratio * Double(n)).rounded(.up)))
        if target == n { return Array(0..<n) }
        let p = Swift.min(projectionDimension, d)
        let projection = Tensor.normal([d, p], std: 1 / Float(p).squareRoot(), using: &rng)
        let projected = Tensor.matmul(features, projection).contiguous().scalars
        let starts = (0..<Swift.min(startPoints, n)).map { _ in rng.nextInt(below: n) }
        var minimum = [Float](repeating: 0, count: n)
        projected.withUnsafeBufferPointer { x in
            minimum.withUnsafeMutableBufferPointer { m in
                let ctx = UncheckedPointers(x: x.baseAddress!, m: m.baseAddress!, best: nil)
                Threading.parallelFor(n, grain: 4096) { range in
                    for i in range {
                        var total: Float = 0
                        for s in starts { total += distance(ctx.x + i * p, ctx.x + s * p, p) }
                        ctx.m[i] = total / Float(starts.count)
                    }
                }
            }
        }
        var selected: [Int] = []
        selected.reserveCapacity(target)
        let chunks = Swift.max(1, Swift.min(Threading.count, n / 8192))
        var best = minimum.indices.max { minimum[$0] < minimum[$1] }!
        var chunkBest = [Int](repeating: 0, count: chunks)
        projected.withUnsafeBufferPointer { x in
            minimum.withUnsafeMutableBufferPointer { m in
                chunkBest.withUnsafeMutableBufferPointer { cb in
                    let ctx = UncheckedPointers(x: x.baseAddress!, m: m.baseAddress!, best: cb.baseAddress!)
                    for _ in 0..<target {
                        selected.append(best)
                        let chosen = ctx.x + best * p
                        // One pass per selection: lower each minimum and find the chunk's farthest point.
                        Threading.parallelFor(chunks, grain: 1) { range in
                            for c in range {
                                var far = -1
                                var farDistance = -Float.infinity
                                for i in (n * c / chunks)..<(n * (c + 1) / chunks) {
                                    let dist = distance(ctx.x + i * p, chosen, p)
                                    if dist < ctx.m[i] { ctx.m[i] = dist }
                                    if ctx.m[i] > farDistance { farDistance = ctx.m[i]; far = i }
                                }
                                ctx.best![c] = far
                            }
                        }
                        best = cb[0]
                        for c in 1..<chunks where m[cb[c]] > m[best] { best = cb[c] }
                    }
                }
            }
        }
        return selected
    }

    /// Euclidean distance of two p-vectors (eight lanes at a time, then the tail).
    @inline(__always)
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ p: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while j + 8 <= p {
            let t = ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            acc += t * t
            j += 8
        }
        var s = acc.sum()
        while j < p {
            let t = a[j] - b[j]
            s += t * t
            j += 1
        }
        return s.squareRoot()
    }
}

/// Pointers shared by the threads of `GreedyCoreset` (each thread writes a disjoint range of `m`).
struct UncheckedPointers: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let m: UnsafeMutablePointer<Float>
    let best: UnsafeMutablePointer<Int>?
}
