import XCTest
@testable import MLCore
@testable import REB

/// The SSL head names its parameters through a scoped factory: every name it creates (BatchNorm
/// buffers included) is one it reports, under its prefix.
final class SSLHeadNameTests: XCTestCase {
    func testCreatedNamesAreTheReportedOnes() {
        let factory = ParameterFactory(seed: 1)
        let head = SSLHead("head", inFeatures: 10, hiddenWidths: [8], classes: 3, factory: factory)
        XCTAssertEqual(factory.createdNames, ["head.0.weight", "head.0.bias", "head.1.weight", "head.1.bias", "head.1.running_mean",
                                              "head.1.running_var", "head.1.num_batches_tracked", "head.3.weight", "head.3.bias"])
        let gaps = factory.nameDiscrepancies(of: head)
        XCTAssertEqual(gaps.notReported, [])
        XCTAssertEqual(gaps.notCreated, [])
    }
}
