import Foundation
import XCTest
@testable import MLCore

/// Base class of the HDF5 tests: a fresh temporary directory per test, removed afterwards, and an
/// assertion for specific `HDF5Error` cases.
class HDF5TestCase: XCTestCase {
    /// The test's temporary directory.
    var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlcore-hdf5-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
        try super.tearDownWithError()
    }

    /// A path inside the test's temporary directory.
    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Asserts that `expression` throws an `HDF5Error` for which `matches` is true; returns it.
    @discardableResult
    func assertHDF5Error<T>(_ expression: @autoclosure () throws -> T, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line,
                            _ matches: (HDF5Error) -> Bool) -> HDF5Error? {
        do {
            let value = try expression()
            XCTFail("expected an HDF5Error, got value \(value). \(message)", file: file, line: line)
            return nil
        } catch let error as HDF5Error {
            XCTAssertTrue(matches(error), "unexpected error: \(error). \(message)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected an HDF5Error, got \(type(of: error)): \(error). \(message)", file: file, line: line)
            return nil
        }
    }
}
