import MLCore

/// Local-density kNN (REB, Lyu et al. 2023, §3.3 "LDKNN"; src/ADModels): the squared distance of a
/// test patch to its nearest memory-bank feature is corrected by that feature's local density,
/// s(q) = d²(q, m*) − λ·ρ(m*), with ρ(m) = (1/K) Σ_{k ≤ K} d²(m, n_k(m)) over the K nearest *other*
/// bank features. λ = 0 (or K unused) is PatchCore's kNN with k = 1. Squared L2 throughout.
public enum LocalDensityKNN {
    /// ρ(m) = mean of the first K of each bank feature's sorted neighbour distances.
    /// - Parameters:
    ///   - neighborDistances: [M, stored] squared distances of every bank feature to its nearest other
    ///     features, ascending per row (`FlatL2Index.selfNeighbors`).
    ///   - stored: neighbours per row.
    ///   - k: K, 1 ≤ K ≤ stored.
    /// - Throws: `REBError.invalidArgument` when K is outside 1...stored.
    public static func densities(neighborDistances: [Float], stored: Int, k: Int) throws -> [Float] {
        guard k >= 1, k <= stored else {
            throw REBError.invalidArgument("K = \(k) is outside 1...\(stored), the neighbour distances the memory bank stores (rebuild the bank with more stored neighbours, at most the bank size − 1)")
        }
        let m = neighborDistances.count / stored
        return (0..<m).map { i in
            var s: Float = 0
            for j in 0..<k { s += neighborDistances[i * stored + j] }
            return s / Float(k)
        }
    }

    /// Patch scores s = d² − λ·ρ(m*) of queries whose nearest bank feature is `nearest` at squared
    /// distance `distances`.
    /// - Precondition: `nearest` indexes `densities`.
    public static func scores(distances: [Float], nearest: [Int32], densities: [Float], lambda: Float) -> [Float] {
        zip(distances, nearest).map { d, m in d - lambda * densities[Int(m)] }
    }
}
