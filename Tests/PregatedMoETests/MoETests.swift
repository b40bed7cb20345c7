import Foundation
import XCTest
@testable import MLCore
@testable import PregatedMoE

/// Moefication, the MoE checkpoint, routing, the offloaded runtime's policies and gate training on a
/// tiny random Llama.
final class MoETests: XCTestCase {
    private let prompt: [Int32] = [1, 5, 9, 3, 17, 2]

    /// Every expert has exactly I/E neurons, together a partition; with all experts active the MoE
    /// decoder reproduces the dense decoder's logits (the sum over experts is the dense SwiGLU).
    func testMoeficationPartitionsNeuronsAndRecoversDense() throws {
        let tiny = try TinyMoE()
        let moe = try MoECheckpoint(path: tiny.moePath)
        XCTAssertEqual(moe.experts, 4)
        XCTAssertEqual(moe.expertWidth, 6)
        let file = try HDF5File(path: tiny.moePath)
        for layer in 0..<3 {
            var all: [Int] = []
            for e in 0..<4 {
                let ds = try file.dataset("/experts/\(layer)/\(e)")
                XCTAssertEqual(ds.shape, [3, 6, 16])
                XCTAssertEqual(try ds.storageInfo().chunkShape, [3, 6, 16], "one chunk per expert")
                let neurons = try ds.attributes.ints("neurons")
                XCTAssertEqual(neurons.count, 6)
                all += neurons
            }
            XCTAssertEqual(all.sorted(), Array(0..<24))
        }
        let session = MoESession(routing: .dense, routers: try moe.routers(), experts: 4, source: ResidentExperts(try moe.loadAllExperts()))
        let decoder = try moe.makeDecoder(session: session)
        let ids = NDArray(prompt, shape: [1, prompt.count])
        let a = withoutGradient { decoder(ids).logits.value.scalars }, b = withoutGradient { tiny.dense(ids).logits.value.scalars }
        let scale = b.map(abs).max()!
        XCTAssertGreaterThan(scale, 0.1)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5 * scale) }
        // With k < E the output differs (the FFN matters in this model).
        session.routing = .gate(k: 1)
        let c = withoutGradient { decoder(ids).logits.value.scalars }
        XCTAssertGreaterThan(zip(c, b).map { abs($0 - $1) }.max()!, 1e-3)
        // Oracle routing with k = E sums the same experts in the same order as dense routing: same bits.
        session.routing = .oracle(k: 4)
        XCTAssertEqual(withoutGradient { decoder(ids).logits.value.scalars }, a)
        session.routing = .oracle(k: 1)
        XCTAssertNotEqual(withoutGradient { decoder(ids).logits.value.scalars }, a)
    }

    /// E must divide the FFN width; a dense checkpoint is not a MoE checkpoint.
    func testBadInputs() throws {
        let tiny = try TinyMoE()
        var rng = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try MoECheckpointWriter.write(to: tiny.directory + "bad.h5", dense: try Checkpoint(path: tiny.densePath),
                                                           experts: 5, rng: &rng)) { error in
            XCTAssertEqual(error as? PregatedMoEError, .expertsDoNotDivide(experts: 5, width: 24))
            XCTAssertEqual((error as? PregatedMoEError)?.category.exitCode, 64)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tiny.directory + "bad.h5"))
        XCTAssertThrowsError(try MoECheckpoint(path: tiny.densePath)) { error in
            guard case .notAMoECheckpoint = error as? PregatedMoEError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("moefy"))
        }
        // A llama-moe checkpoint without /experts.
        let noExperts = tiny.directory + "no-experts.h5"
        try CheckpointWriter.save(tiny.dense.stateDict(), to: noExperts, architecture: "llama-moe",
                                  config: try Checkpoint(path: tiny.moePath).config)
        XCTAssertThrowsError(try MoECheckpoint(path: noExperts)) { error in
            XCTAssertEqual(error as? PregatedMoEError, .notAMoECheckpoint(file: noExperts, reason: "no /experts group"))
        }
        let moe = try MoECheckpoint(path: tiny.moePath)
        let store = try ExpertStore(checkpoint: moe)
        let block = 4 * moe.expertBytes
        XCTAssertThrowsError(try OffloadedExperts(store: store, policy: .pregated, budgetBytes: block - 1)) { error in
            XCTAssertEqual(error as? PregatedMoEError, .budgetTooSmall(budgetBytes: block - 1, neededBytes: block,
                                                                     what: "one block's 4 experts of \(moe.expertBytes) B"))
        }
        XCTAssertThrowsError(try OffloadedExperts(store: store, policy: .gpuOnly, budgetBytes: 2 * block))
        XCTAssertThrowsError(try OffloadedExperts(store: store, policy: .onDemand, budgetBytes: block, linkGigabytesPerSecond: 0))
    }

    /// Gate-weighted combination by hand. D = 2, E = 3 experts of one neuron each, x = (1, 0.5):
    /// expert e computes down_e · silu(gate_e·x) · (up_e·x). Gate logits W x = (1, 3, 2) → top-2 {1, 2},
    /// weights 2·softmax(3, 2) = 2·(e/(e+1), 1/(e+1)) = (1.462117, 0.537883).
    /// Expert 1: gate (2, 0) → silu(2) = 1.761594; up (0, 2) → 1; down (1, −1) → (1.761594, −1.761594).
    /// Expert 2: gate (0, 2) → silu(1) = 0.731059; up (1, 0) → 1; down (0, 3) → (0, 2.193176).
    /// Output: 1.462117 · (1.761594, −1.761594) + 0.537883 · (0, 2.193176) = (2.575657, −1.396015).
    func testGateWeightedCombinationByHand() throws {
        let packed: [[Float]] = [[1, 1, 1, 1, 1, 1], [2, 0, 0, 2, 1, -1], [0, 2, 1, 0, 0, 3]]
        let experts = packed.map { ExpertWeights(packed: Tensor($0, shape: [3, 1, 2])) }
        let gate = Tensor([1, 0, 2, 2, 0, 4], shape: [3, 2])  // W x = (1, 3, 2) for x = (1, 0.5)
        let session = MoESession(routing: .gate(k: 2), routers: Routers(gates: [gate], pregates: []), experts: 3,
                                 source: ResidentExperts([experts]))
        let x = Tensor([1, 0.5], shape: [1, 2])
        let weights = MoESession.combinationWeights(Tensor.matmul(x, gate, transposeB: true), selection: [[1, 2]])
        XCTAssertEqual(weights[0][0], 1.462117, accuracy: 1e-5)
        XCTAssertEqual(weights[0][1], 0.537883, accuracy: 1e-5)
        let y = session.forward(layer: 0, x).scalars
        XCTAssertEqual(y[0], 2.575657, accuracy: 1e-4)
        XCTAssertEqual(y[1], -1.396015, accuracy: 1e-4)
        // Summed instead of weighted: (1.761594, −1.761594 + 2.193176).
        session.combination = .sum
        let summed = session.forward(layer: 0, x).scalars
        XCTAssertEqual(summed[0], 1.761594, accuracy: 1e-5)
        XCTAssertEqual(summed[1], 0.431582, accuracy: 1e-5)
        session.combination = .weighted
        // k = 1: the weight is 1 (expert 1 alone); oracle and dense routing sum unweighted.
        session.routing = .gate(k: 1)
        XCTAssertEqual(session.forward(layer: 0, x).scalars[0], 1.761594, accuracy: 1e-5)
        session.routing = .dense
        let all = session.forward(layer: 0, x).scalars
        let expert0 = Float(1.5 * 1.5 / (1 + Foundation.exp(-1.5)))  // silu(1.5) · 1.5, down (1, 1)
        XCTAssertEqual(all[0], expert0 + 1.761594, accuracy: 1e-4)
        XCTAssertEqual(all[1], expert0 - 1.761594 + 2.193176, accuracy: 1e-4)
    }

    /// On-policy collection: under oracle top-1 routing layer 0 sees the same FFN inputs as the dense
    /// model (nothing before it is routed) and later layers see the MoE's own, different activations;
    /// the session's routing is restored afterwards.
    func testOnPolicyCollectionSeesTheMoEsActivations() throws {
        let tiny = try TinyMoE()
        let moe = try MoECheckpoint(path: tiny.moePath)
        let experts = try moe.loadAllExperts()
        let session = MoESession(routing: .gate(k: 2), routers: try moe.routers(), experts: 4, source: ResidentExperts(experts))
        let decoder = try moe.makeDecoder(session: session)
        let sequences: [[Int32]] = [[1, 5, 9, 3, 17], [2, 4, 6]]
        let dense = GateTraining.collect(decoder: decoder, session: session, experts: experts, sequences: sequences)
        let own = GateTraining.collect(decoder: decoder, session: session, experts: experts, sequences: sequences, routing: .oracle(k: 1))
        XCTAssertEqual(session.routing, .gate(k: 2))
        XCTAssertEqual(own[0].inputs.scalars, dense[0].inputs.scalars)
        XCTAssertGreaterThan(zip(own[2].inputs.scalars, dense[2].inputs.scalars).map { abs($0 - $1) }.max()!, 1e-3)
        XCTAssertEqual(own[2].contributions.shape, [8, 4])
    }

    /// Switch load-balancing loss E · Σ f_i P_i on p = [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]]:
    /// k = 1: f = (1/2, 1/2, 0), P = (0.4, 0.4, 0.2) → 3 · (0.2 + 0.2) = 1.2, gradient ∂/∂p_ti = E f_i / N
    /// = (0.75, 0.75, 0); k = 2: top-2 {0, 1} and {1, 2}, f = (1/4, 1/2, 1/4) → 3 · (0.1 + 0.2 + 0.05) = 1.05.
    /// Uniform routing gives 1.
    func testLoadBalancingLossMatchesFormula() {
        let p = Variable(Tensor([0.7, 0.2, 0.1, 0.1, 0.6, 0.3], shape: [2, 3]), requiresGrad: true)
        let loss = GateTraining.loadBalancingLoss(probabilities: p, k: 1)
        XCTAssertEqual(loss.value.item, 1.2, accuracy: 1e-6)
        loss.backward()
        let g = p.grad!.scalars
        for (a, b) in zip(g, [0.75, 0.75, 0, 0.75, 0.75, 0] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(GateTraining.loadBalancingLoss(probabilities: Variable(p.value), k: 2).value.item, 1.05, accuracy: 1e-6)
        let uniform = Variable(Tensor([Float](repeating: 0.25, count: 8), shape: [2, 4]))
        XCTAssertEqual(GateTraining.loadBalancingLoss(probabilities: uniform, k: 1).value.item, 1, accuracy: 1e-6)
    }

    /// top-k picks the largest logits, ties to the lower index, sorted.
    func testTopK() {
        let logits = Tensor([0.5, 2, 2, -1, 3, 0, 0, 0], shape: [2, 4])
        XCTAssertEqual(MoESession.topK(logits, k: 2), [[1, 2], [0, 1]])
        XCTAssertEqual(MoESession.topK(logits, k: 1), [[1], [0]])
    }

    private func run(_ tiny: TinyMoE, policy: OffloadPolicy, routing: RoutingMode, budgetBlocks: Int = 2,
                     record: Bool = false) throws -> (tokens: [Int32], scores: [Float], inference: OffloadedInference) {
        let moe = try MoECheckpoint(path: tiny.moePath)
        let budget = (policy == .gpuOnly ? 3 : budgetBlocks) * 4 * moe.expertBytes
        let inference = try OffloadedInference(checkpoint: moe, routers: try moe.routers(), routing: routing, policy: policy,
                                               budgetBytes: budget, eviction: .lru, linkGigabytesPerSecond: nil, recordEvents: record)
        let tokens = try inference.generate(prompt: prompt, maxNewTokens: 6).tokens
        let scores = try inference.score(prompt + tokens)
        inference.close()
        return (tokens, scores, inference)
    }

    /// For the same routing, all four policies (and all experts resident) produce the same tokens and
    /// the same log-probabilities, bit for bit.
    func testPoliciesProduceIdenticalOutputs() throws {
        let tiny = try TinyMoE()
        let moe = try MoECheckpoint(path: tiny.moePath)
        for routing in [RoutingMode.pregate(k: 2), .gate(k: 1)] {
            let session = MoESession(routing: routing, routers: try moe.routers(), experts: 4, source: ResidentExperts(try moe.loadAllExperts()))
            let decoder = try moe.makeDecoder(session: session)
            var rng = RandomGenerator(seed: 0)
            let reference = try decoder.continuation(of: prompt, options: GenerationOptions(maxNewTokens: 6), rng: &rng)
            let referenceScores = decoder.tokenLogProbabilities([prompt + reference])[0]
            for policy in OffloadPolicy.allCases {
                for blocks in [1, 2] {
                    let out = try run(tiny, policy: policy, routing: routing, budgetBlocks: blocks)
                    XCTAssertEqual(out.tokens, reference, "\(policy) \(routing)")
                    XCTAssertEqual(out.scores, referenceScores, "\(policy) \(routing) budget \(blocks) blocks")
                }
            }
        }
    }

    /// From the event log: no expert is computed unless a fetch of it completed earlier and it was not
    /// evicted since; the last block issues no prefetch; with pre-gated routing and room for two blocks
    /// only block 0 ever fetches on demand (the pre-gate's choices are exactly what the next block uses).
    func testEventLogCausality() throws {
        let tiny = try TinyMoE()
        for policy in OffloadPolicy.allCases {
            for blocks in [1, 2] {
                let events = try run(tiny, policy: policy, routing: .pregate(k: 2), budgetBlocks: blocks, record: true).inference.tiers.events
                var resident = Set<ExpertKey>()
                var computes = 0
                for e in events {
                    switch e.kind {
                    case .fetchEnd: resident.insert(e.key)
                    case .evict: resident.remove(e.key)
                    case .compute:
                        computes += 1
                        XCTAssertTrue(resident.contains(e.key), "\(policy): \(e.key) computed at \(e.sequence) before its fetch completed")
                    default: break
                    }
                }
                XCTAssertGreaterThan(computes, 0)
                XCTAssertFalse(events.contains { $0.kind == .prefetchIssued && $0.block == 2 }, "\(policy): the last block prefetched")
                if policy == .pregated && blocks == 2 {
                    XCTAssertTrue(events.contains { $0.kind == .prefetchIssued })
                    XCTAssertTrue(events.filter { $0.kind == .demandIssued }.allSatisfy { $0.key.layer == 0 },
                                  "pre-gated: a block after the first fetched on demand")
                }
                if policy == .onDemand || policy == .gpuOnly { XCTAssertFalse(events.contains { $0.kind == .prefetchIssued }) }
            }
        }
    }

    /// A corrupt expert dataset found mid-run is a clear error naming the expert.
    func testCorruptExpertIsNamed() throws {
        let tiny = try TinyMoE()
        do {
            let file = try HDF5File(path: tiny.moePath, mode: .readWrite)
            try file.dataset("/experts/1/2").write([Float](repeating: 0.5, count: 3 * 6 * 16))
            try file.close()
        }
        XCTAssertThrowsError(try run(tiny, policy: .pregated, routing: .gate(k: 4))) { error in
            XCTAssertEqual((error as? PregatedMoEError)?.category.exitCode, 65)
            guard case let .corruptExpert(_, layer, expert, reason)? = error as? PregatedMoEError else { return XCTFail("\(error)") }
            XCTAssertEqual(layer, 1)
            XCTAssertEqual(expert, 2)
            XCTAssertTrue(reason.contains("checksum"), reason)
            XCTAssertTrue("\(error)".contains("expert 2 of layer 1"))
        }
    }

    /// Training a gate from a random start on the tiny model's FFN inputs lowers its soft cross-entropy
    /// and the reconstruction loss of its top-1 expert against the dense FFN.
    func testGateTrainingLowersReconstructionLoss() throws {
        let tiny = try TinyMoE()
        let moe = try MoECheckpoint(path: tiny.moePath)
        let experts = try moe.loadAllExperts()
        let session = MoESession(routing: .dense, routers: try moe.routers(), experts: 4, source: ResidentExperts(experts))
        let decoder = try moe.makeDecoder(session: session)
        var rng = RandomGenerator(seed: 9)
        let sequences = (0..<12).map { _ in (0..<10).map { _ in Int32(rng.nextInt(below: 40)) } }
        let rows = GateTraining.collect(decoder: decoder, session: session, experts: experts, sequences: sequences)
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[1].inputs.shape, [120, 16])
        let layer = 1, targets = GateTraining.targets(rows[layer].contributions)
        let start = Tensor(shape: [4, 16]) { _ in rng.normal() * 0.5 }
        let trained = try GateTraining.train(initial: start, inputs: rows[layer].inputs, targets: targets, steps: 300, learningRate: 0.05)
        XCTAssertLessThan(GateTraining.loss(weights: trained, inputs: rows[layer].inputs, targets: targets),
                          GateTraining.loss(weights: start, inputs: rows[layer].inputs, targets: targets))
        let before = GateTraining.reconstructionLoss(router: start, inputs: rows[layer].inputs, experts: experts[layer], k: 1)
        let after = GateTraining.reconstructionLoss(router: trained, inputs: rows[layer].inputs, experts: experts[layer], k: 1)
        XCTAssertLessThan(after, before)
        // All experts reconstruct exactly.
        XCTAssertEqual(GateTraining.reconstructionLoss(router: trained, inputs: rows[layer].inputs, experts: experts[layer], k: 4), 0, accuracy: 1e-9)
    }
}
