import Foundation
import XCTest
@testable import MLCore

/// Locates committed fixtures (Tests/Fixtures) from this source file's path, so tests run from any
/// working directory of a clean clone.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A float from a fixture value: a number or "nan" / "inf" / "-inf".
    static func float(_ value: Any) -> Float { Float(MetricsFixture.double(value)) }

    /// A tensor from {"shape", "data"} (or {"shape", "pattern"}: x[i] = (i·multiplier mod modulus)·scale + shift).
    static func tensor(_ object: Any) -> Tensor {
        let dict = object as! [String: Any]
        let shape = (dict["shape"] as! [NSNumber]).map { $0.intValue }
        if let pattern = dict["pattern"] as? [String: NSNumber] {
            let mul = pattern["multiplier"]!.intValue, mod = pattern["modulus"]!.intValue
            let scale = pattern["scale"]!.floatValue, shift = pattern["shift"]!.floatValue
            return Tensor(shape: shape) { i in Float(i * mul % mod) * scale + shift }
        }
        return Tensor((dict["data"] as! [Any]).map(float), shape: shape)
    }
}

/// Asserts element-wise |actual − expected| ≤ atol + rtol·|expected|, with NaN matching NaN and
/// infinities matching exactly. Reports the first mismatches with their index.
func assertClose(_ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        XCTFail("\(message): shape \(actual.shape) != expected \(expected.shape)", file: file, line: line)
        return
    }
    let a = actual.scalars, e = expected.scalars
    var failures = 0
    for i in a.indices {
        let ok: Bool
        if e[i].isNaN { ok = a[i].isNaN } else if e[i].isInfinite { ok = a[i] == e[i] } else {
            ok = abs(a[i] - e[i]) <= atol + rtol * abs(e[i])
        }
        if !ok {
            failures += 1
            if failures <= 5 {
                XCTFail("\(message): element \(i): \(a[i]) != expected \(e[i])", file: file, line: line)
            }
        }
    }
}
