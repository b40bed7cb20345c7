import Foundation
import XCTest
@testable import MLCore

final class HDF5AtomicCreateTests: HDF5TestCase {
    struct Boom: Error {}

    /// A successful body produces the file; a failing one leaves the old file as it was and no
    /// partial file behind.
    func testFailureKeepsTheExistingFile() throws {
        let target = path("a.h5")
        try HDF5File.createAtomically(target) { file in
            try file.root.createDataset("x", shape: [2], data: [Float(1), 2])
        }
        XCTAssertEqual(try HDF5File(path: target).dataset("/x").read(as: Float.self), [1, 2])
        XCTAssertThrowsError(try HDF5File.createAtomically(target) { file in
            try file.root.createDataset("x", shape: [2], data: [Float(3), 4])
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try HDF5File(path: target).dataset("/x").read(as: Float.self), [1, 2])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("partial") }
        XCTAssertEqual(leftovers, [])
    }
}
