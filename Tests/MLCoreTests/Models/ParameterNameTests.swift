import XCTest
@testable import MLCore

/// Every model family names its parameters once: the names created through the `ParameterFactory`
/// equal the names the module reports (`parameters`, `stateDict()`) and, for the real prepared
/// checkpoints, the checkpoint's keys (less the family's non-parameter keys). A sub-module left out of
/// `parameters` (or built outside the factory) fails here.
final class ParameterNameTests: XCTestCase {
    private func checkNames<M: CheckpointLoadable>(_ type: M.Type, _ relative: String, count: Int,
                                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let checkpoint = try Checkpoint(path: try PreparedData.path(relative))
        let factory = ParameterFactory.placeholders()
        let model = M.build(config: try M.config(of: checkpoint), checkpointKeys: Set(checkpoint.keys), factory: factory)
        let created = factory.createdNames
        XCTAssertEqual(created.count, count, "parameters created", file: file, line: line)
        XCTAssertEqual(Set(created).count, created.count, "a name created twice", file: file, line: line)
        let gaps = factory.nameDiscrepancies(of: model)
        XCTAssertEqual(gaps.notReported, [], "created but not in parameters", file: file, line: line)
        XCTAssertEqual(gaps.notCreated, [], "in parameters but not created through the factory", file: file, line: line)
        XCTAssertEqual(Set(model.stateDict().keys), Set(created), file: file, line: line)
        XCTAssertEqual(Set(checkpoint.keys).subtracting(M.nonParameterKeys), Set(created), "checkpoint keys", file: file, line: line)
    }

    /// MiniLM-L6: 5 embedding tensors, 16 per layer × 6, the pooler's 2 = 103.
    func testMiniLMNames() throws { try checkNames(BertEncoder.self, "data/models/minilm-l6.h5", count: 103) }

    /// SmolLM2: the embedding, 9 per block × 30, the final norm = 272 (the output is tied).
    func testSmolLM2Names() throws { try checkNames(LlamaDecoder.self, "data/models/smollm2.h5", count: 272) }

    /// EfficientNet-Lite0: the checkpoint's 296 tensors (BatchNorm buffers included).
    func testEfficientNetLite0Names() throws { try checkNames(EfficientNetLite.self, "data/models/efficientnet-lite0.h5", count: 296) }

    /// A module that forgets a sub-module, or reports a parameter made elsewhere, is caught.
    func testAForgottenSubModuleIsCaught() {
        final class Forgetful: Module {
            let a: Linear, b: Linear, stray = Parameter(Tensor.zeros([1]), name: "stray")
            init(factory: ParameterFactory) {
                a = Linear("a", inFeatures: 2, outFeatures: 2, factory: factory.scoped("head"))
                b = Linear("b", inFeatures: 2, outFeatures: 2, bias: false, factory: factory.scoped("head"))
            }
            var parameters: [Parameter] { a.parameters + [stray] }
        }
        let factory = ParameterFactory(seed: 1)
        let gaps = factory.nameDiscrepancies(of: Forgetful(factory: factory))
        XCTAssertEqual(factory.createdNames, ["head.a.weight", "head.a.bias", "head.b.weight"])
        XCTAssertEqual(gaps.notReported, ["head.b.weight"])
        XCTAssertEqual(gaps.notCreated, ["stray"])
    }

    /// Scoped views share one generator: the same draws in the same order as an unscoped factory.
    func testScopedFactoriesDrawInConstructionOrder() {
        let plain = ParameterFactory(seed: 9), scoped = ParameterFactory(seed: 9)
        let p1 = plain.make("x.w", [3], .normal(std: 1)), p2 = plain.make("y.w", [2], .uniform(bound: 1))
        let q1 = scoped.scoped("x").make("w", [3], .normal(std: 1)), q2 = scoped.scoped("y").make("w", [2], .uniform(bound: 1))
        XCTAssertEqual(q1.name, "x.w")
        XCTAssertEqual(q2.name, "y.w")
        XCTAssertEqual(p1.value.scalars, q1.value.scalars)
        XCTAssertEqual(p2.value.scalars, q2.value.scalars)
        XCTAssertEqual(scoped.scoped("a").scoped("b").key("c"), "a.b.c")
    }
}
