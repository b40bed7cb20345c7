import XCTest
import MLCore
@testable import REB

/// PatchCore's pooling steps as matrices, against a direct computation.
final class PatchAggregationTests: XCTestCase {
    /// torch adaptive_avg_pool1d from 5 to 3: bins [0, 2), [1, 4), [3, 5) (start ⌊i·5/3⌋, end ⌈(i+1)·5/3⌉).
    func testAdaptivePoolingBins() {
        let m = PatchAggregation.adaptiveAveragePooling(input: 5, output: 3)
        let x: [Double] = [1, 2, 3, 4, 5]
        let y = (0..<3).map { i in (0..<5).reduce(0.0) { $0 + x[$1] * m[$1 * 3 + i] } }
        XCTAssertEqual(y, [1.5, 3, 4.5])
        // Upsampling 2 → 4 repeats: bins [0,1), [0,1), [1,2), [1,2).
        let up = PatchAggregation.adaptiveAveragePooling(input: 2, output: 4)
        XCTAssertEqual((0..<4).map { i in 7 * up[i] + 9 * up[4 + i] }, [7, 7, 9, 9])
    }

    /// v₁·A₁ + v₂·A₂ equals pool(concat(pool(v₁), pool(v₂))) computed step by step.
    func testStageMatricesEqualPoolConcatPool() {
        var rng = RandomGenerator(seed: 5)
        let widths = [18, 45], pre = 10, d = 7
        let v = widths.map { w in (0..<w).map { _ in Double(rng.normal()) } }
        func pool(_ x: [Double], _ o: Int) -> [Double] {
            let n = x.count
            return (0..<o).map { i in
                let lo = i * n / o, hi = ((i + 1) * n + o - 1) / o
                return x[lo..<hi].reduce(0, +) / Double(hi - lo)
            }
        }
        let expected = pool(pool(v[0], pre) + pool(v[1], pre), d)
        let a = PatchAggregation.matrices(widths: widths, pretrainDimension: pre, dimension: d)
        for j in 0..<d {
            var s = 0.0
            for l in 0..<2 { for r in 0..<widths[l] { s += v[l][r] * Double(a[l][r * d + j]) } }
            XCTAssertEqual(s, expected[j], accuracy: 1e-5)
        }
    }
}
