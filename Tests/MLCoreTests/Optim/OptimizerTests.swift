import XCTest
@testable import MLCore

/// Optimizers, clipping and schedules against PyTorch (Tests/Fixtures/losses_optim.json, made by
/// Tools/reference/make_loss_optim_fixtures.py), and parameter-group behaviour.
final class OptimizerTests: XCTestCase {
    private func fixture(_ key: String) throws -> [[String: Any]] {
        try XCTUnwrap(try Fixtures.json("losses_optim.json")[key] as? [[String: Any]])
    }

    /// 5 steps on L = ½ Σ a ⊙ (θ − c)² with the gradient a ⊙ (θ − c) (two float32 ops, as the script),
    /// every step compared with torch's parameters.
    func testOptimizerTrajectoriesMatchPyTorch() throws {
        let cases = try fixture("optimizers")
        XCTAssertGreaterThanOrEqual(cases.count, 13)
        for c in cases {
            let name = c["name"] as! String, kind = c["optimizer"] as! String
            let options = c["options"] as! [String: Any]
            func number(_ dict: [String: Any], _ key: String, _ fallback: Float) -> Float {
                (dict[key] as? NSNumber)?.floatValue ?? fallback
            }
            let params = (c["init"] as! [Any]).enumerated().map { Parameter(Fixtures.tensor($1), name: "p\($0)") }
            let a = (c["a"] as! [Any]).map(Fixtures.tensor), target = (c["c"] as! [Any]).map(Fixtures.tensor)
            let defaultDecay: Float = kind == "adamw" ? 0.01 : 0
            let lr = number(options, "lr", 1e-3), wd = number(options, "weight_decay", defaultDecay)
            let groups: [ParameterGroup]
            if let specs = c["groups"] as? [[String: Any]] {
                groups = specs.map { g in
                    ParameterGroup((g["params"] as! [NSNumber]).map { params[$0.intValue] },
                                   learningRate: number(g, "lr", lr), weightDecay: number(g, "weight_decay", wd))
                }
            } else {
                groups = [ParameterGroup(params, learningRate: lr, weightDecay: wd)]
            }
            let betas = (options["betas"] as? [NSNumber])?.map(\.floatValue) ?? [0.9, 0.999]
            let eps = number(options, "eps", 1e-8), amsgrad = options["amsgrad"] as? Bool ?? false
            let optimizer: Optimizer
            switch kind {
            case "sgd":
                optimizer = SGD(groups, momentum: number(options, "momentum", 0), dampening: number(options, "dampening", 0),
                                nesterov: options["nesterov"] as? Bool ?? false)
            case "adam": optimizer = Adam(groups, beta1: betas[0], beta2: betas[1], epsilon: eps, amsgrad: amsgrad)
            case "adamw": optimizer = AdamW(groups, beta1: betas[0], beta2: betas[1], epsilon: eps, amsgrad: amsgrad)
            default: XCTFail("unknown optimizer \(kind)"); continue
            }
            for (step, expected) in (c["trajectory"] as! [[Any]]).enumerated() {
                for (k, p) in params.enumerated() { p.grad = a[k] * (p.value - target[k]) }
                optimizer.step()
                for (k, p) in params.enumerated() {
                    assertClose(p.value, Fixtures.tensor(expected[k]), rtol: 1e-6, atol: 1e-7, "\(name) step \(step + 1) param \(k)")
                }
            }
            optimizer.zeroGradients()
            XCTAssertTrue(params.allSatisfy { $0.grad == nil }, name)
        }
    }

    func testGradientClippingMatchesPyTorch() throws {
        for c in try fixture("clipping") {
            let grads = (c["grads"] as! [Any]).map(Fixtures.tensor)
            let params = grads.enumerated().map { k, g -> Parameter in
                let p = Parameter(Tensor.zeros(g.shape), name: "p\(k)")
                p.grad = g
                return p
            }
            let total = clipGradientNorm(params + [Parameter(Tensor.zeros([2]), name: "no_grad")],
                                         maxNorm: (c["max_norm"] as! NSNumber).floatValue)
            let expectedTotal = (c["total_norm"] as! NSNumber).floatValue
            XCTAssertEqual(total, expectedTotal, accuracy: 1e-6 * expectedTotal)
            for (p, expected) in zip(params, c["clipped"] as! [Any]) {
                assertClose(p.grad!, Fixtures.tensor(expected), rtol: 1e-6, atol: 1e-7, "clip \(c["max_norm"]!)")
            }
        }
    }

    func testSchedulesMatchPyTorchAndTransformersFormulas() throws {
        let cases = try fixture("schedules")
        for c in cases {
            let kind = c["kind"] as! String, base = (c["base"] as! NSNumber).floatValue
            func int(_ key: String) -> Int { (c[key] as! NSNumber).intValue }
            let schedule: LearningRateSchedule
            switch kind {
            case "constant": schedule = .constant
            case "linear": schedule = .linearWarmupDecay(warmupSteps: int("warmup"), totalSteps: int("total"))
            case "cosine":
                schedule = .cosineWarmupDecay(warmupSteps: int("warmup"), totalSteps: int("total"),
                                              cycles: (c["cycles"] as! NSNumber).doubleValue)
            case "warm_restarts":
                schedule = .cosineWarmRestarts(period: int("T_0"), periodMultiplier: int("T_mult"),
                                               minimum: (c["eta_min"] as! NSNumber).floatValue)
            default: XCTFail("unknown schedule \(kind)"); continue
            }
            for (step, expected) in (c["lrs"] as! [NSNumber]).enumerated() {
                let e = expected.floatValue
                XCTAssertEqual(schedule.learningRate(base: base, step: step), e, accuracy: 1e-6 * Swift.abs(e) + 1e-10,
                               "\(kind) \(c) step \(step)")
            }
        }
        // Constant after a linear warm-up of 4 steps: 0, 1/4, 2/4, 3/4 of the base, then the base.
        XCTAssertEqual((0..<6).map { LearningRateSchedule.constantWithWarmup(warmupSteps: 4).learningRate(base: 0.2, step: $0) },
                       [0, 0.05, 0.1, 0.15, 0.2, 0.2])
        XCTAssertEqual(LearningRateSchedule.constantWithWarmup(warmupSteps: 0).learningRate(base: 0.2, step: 0), 0.2)
        XCTAssertEqual(LearningRateSchedule.cosineWarmupDecay(warmupSteps: 1, totalSteps: 3),
                       .cosineWarmupDecay(warmupSteps: 1, totalSteps: 3, cycles: 0.5))
    }

    // MARK: Parameter groups

    /// A linear layer followed by LayerNorm: weights [2, 3] decay; the bias and norm parameters do not.
    private final class Tiny: Module {
        let fc: Linear, norm: LayerNorm
        init() {
            let factory = ParameterFactory(seed: 3)
            fc = Linear("fc", inFeatures: 3, outFeatures: 2, factory: factory)
            norm = LayerNorm("encoder.LayerNorm", features: 2, factory: factory)
        }
        var parameters: [Parameter] { fc.parameters + norm.parameters }
    }

    func testDecayGroupsAndFrozenGroups() {
        let model = Tiny()
        let groups = ParameterGroup.decayAndNoDecay(model, learningRate: 0.1, weightDecay: 0.5)
        XCTAssertEqual(groups.map(\.name), ["decay", "no_decay"])
        XCTAssertEqual(groups[0].parameters.map(\.name), ["fc.weight"])
        XCTAssertEqual(groups[1].parameters.map(\.name), ["fc.bias", "encoder.LayerNorm.weight", "encoder.LayerNorm.bias"])
        XCTAssertEqual(groups[1].weightDecay, 0)
        XCTAssertTrue(ParameterGroup.isExemptFromWeightDecay(Parameter(Tensor.zeros([2, 2]), name: "ln_f.norm.scale")))

        // Zero gradients: AdamW's update is exactly 0, so only decoupled decay moves a parameter.
        let before = model.parameters.map(\.value)
        for p in model.parameters { p.grad = Tensor.zeros(p.value.shape) }
        let optimizer = AdamW(groups)
        optimizer.step()
        assertClose(model.fc.weight.value, before[0] * (1 - 0.1 * 0.5), rtol: 1e-7, atol: 0, "decayed")
        for (p, b) in zip(model.parameters.dropFirst(), before.dropFirst()) { XCTAssertEqual(p.value.scalars, b.scalars, p.name) }

        // A frozen group and a frozen parameter are left alone; the others move.
        optimizer.groups[0].isFrozen = true
        model.norm.bias.isTrainable = false
        for p in model.parameters { p.grad = Tensor.ones(p.value.shape) }
        let frozen = [model.fc.weight.value, model.norm.bias.value]
        let moving = [model.fc.bias!.value, model.norm.weight.value]
        optimizer.step()
        XCTAssertEqual(model.fc.weight.value.scalars, frozen[0].scalars)
        XCTAssertEqual(model.norm.bias.value.scalars, frozen[1].scalars)
        XCTAssertNotEqual(model.fc.bias!.value.scalars, moving[0].scalars)
        XCTAssertNotEqual(model.norm.weight.value.scalars, moving[1].scalars)
    }

    func testSchedulesDriveGroupLearningRates() {
        let p = Parameter(Tensor([1, 2]), name: "w")
        let optimizer = SGD([ParameterGroup([p], learningRate: 0.4), ParameterGroup([], learningRate: 0.2)])
        optimizer.setLearningRates(.linearWarmupDecay(warmupSteps: 2, totalSteps: 4), step: 1)
        XCTAssertEqual(optimizer.groups.map(\.learningRate), [0.2, 0.1])
        XCTAssertEqual(optimizer.groups.map(\.baseLearningRate), [0.4, 0.2])
        p.grad = Tensor([1, -1])
        optimizer.step()
        XCTAssertEqual(p.value.scalars, [0.8, 2.2])
    }

    /// The fused kernels cover SIMD blocks, tails and several threads: a large parameter must follow the
    /// same update as a small one element by element.
    func testLargeParametersUpdateLikeSmallOnes() {
        let n = 100_003, picks = [0, 7, 33_333, 100_002]
        let values = randomTensor([n], seed: 5), grads = randomTensor([n], seed: 6)
        let makers: [([Parameter]) -> Optimizer] = [
            { AdamW($0, learningRate: 0.01, amsgrad: true) },
            { Adam($0, learningRate: 0.01, weightDecay: 0.1) },
            { SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) },
        ]
        for make in makers {
            let big = Parameter(values, name: "big")
            let small = picks.map { Parameter(Tensor([values[$0]]), name: "s\($0)") }
            let optimizers = [make([big]), make(small)]
            for _ in 0..<3 {
                big.grad = grads
                for (k, p) in small.enumerated() { p.grad = Tensor([grads[picks[k]]]) }
                for o in optimizers { o.step() }
            }
            for (k, p) in small.enumerated() { XCTAssertEqual(big.value[picks[k]], p.value[0]) }
        }
    }
}
