import ArgumentParser
import CBLAS
import Dispatch
import Foundation
import MLCore

/// Kernel benchmarks of MLCore, printed as JSON (median of repeats). The peers (numpy, h5py) run in
/// Benchmarks/peers/ on the same machine in the same `make bench`; Benchmarks/compare.py joins them.
/// Raw `cblas_sgemm` with OpenBLAS's own threads is measured here as the matmul peer (the one place outside MLCore that calls
/// CBLAS, on purpose: it is the baseline MLCore's wrapper must match).
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlcore-bench", abstract: "Benchmark MLCore kernels; JSON on stdout or --output.")

    @Option(help: "Write JSON here instead of stdout.") var output: String?
    @Option(help: "Timed repeats per case (the median is reported).") var repeats = 7
    @Option(help: "Elements for the element-wise cases.") var elements = 1 << 24
    @Option(help: "Checkpoint to read for the I/O case (skipped when missing).") var checkpoint = "data/models/minilm-l6.h5"
    @Option(help: "Tweet corpus for the tokenizer cases (skipped when missing).") var tweets = "data/datasets/tweets.h5"
    @Option(help: "BERT checkpoint for the model cases (skipped when missing).") var bertCheckpoint = "data/models/minilm-l6.h5"
    @Option(help: "EfficientNet-Lite0 checkpoint for the CNN inference case (skipped when missing).") var efficientnet = "data/models/efficientnet-lite0.h5"
    @Option(help: "Causal LM for the prefill/decode cases (skipped when missing).") var llamaCheckpoint = "data/models/smollm2.h5"
    @Option(help: "Prompt length of the LLM prefill case.") var promptTokens = 128
    @Option(help: "Greedy steps of the LLM decode case.") var decodeTokens = 64
    @Option(help: "Stored vectors of the kNN cases (REB's bank: 200 images × 784 patches × 10% coreset).") var knnBank = 15_680
    @Option(help: "Queries of the kNN cases (16 test images × 784 patches).") var knnQueries = 12_544
    @Option(help: "Vector width of the kNN cases.") var knnDimension = 512
    @Option(help: "Nodes of the graph-op cases.") var graphNodes = 100_000
    @Option(help: "Edges of the graph-op cases.") var graphEdges = 1_000_000
    @Option(help: "Features per node/edge row of the graph-op cases.") var graphFeatures = 64
    @Option(help: "Directory of Benchmarks/peers/metrics_cli_bench.py's inputs: runs the `mlcore metric` cases (only when given).")
    var metricInputs: String?
    @Option(help: "Only run cases whose name contains this.") var filter: String?
    @Option(help: "Threads for MLCore kernels and matrix products (default: all cores).") var threads: Int?

    func run() throws {
        if let threads { Threading.count = threads }
        var results: [JSONValue] = []
        /// Times several cases round-robin (one warm-up each, then `repeats` rounds), so a change in the
        /// machine's load hits all of them alike; records each case's median.
        func record(_ group: String, work: Double, unit: String, _ cases: [(String, () -> Void)]) {
            let cases = cases.filter { filter == nil || $0.0.contains(filter!) }
            guard !cases.isEmpty else { return }
            for (_, body) in cases { body() }  // warm-up (page faults of first use, OpenBLAS threads)
            var times = [[Double]](repeating: [], count: cases.count)
            for _ in 0..<repeats {
                for (i, (_, body)) in cases.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    body()
                    times[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
            }
            for (i, (name, _)) in cases.enumerated() {
                let median = times[i].sorted()[times[i].count / 2]
                FileHandle.standardError.write(Data(String(format: "%-28@ %10.4f ms  %8.2f %@\n", name as NSString,
                                                            median * 1e3, work / median / 1e9, unit as NSString).utf8))
                results.append(["name": .string(name), "group": .string(group), "median_s": .double(median),
                                "throughput": .double(work / median / 1e9), "unit": .string(unit),
                                "repeats_s": JSONValue(times[i]), "peak_rss_mib": .double(ResourceUsage.peakResidentMiB)])
            }
        }
        func record(_ name: String, _ group: String, work: Double, unit: String, _ body: @escaping () -> Void) {
            record(group, work: work, unit: unit, [(name, body)])
        }
        /// Whether a section has a case that passes the filter: inputs are made only then, so a
        /// one-case process's peak RSS is that case's.
        func wants(_ names: [String]) -> Bool { ModelBench.wanted(names, filter: filter) }

        // GEMM: C = A·B, square n, 2n³ flops. MLCore with a fresh output (the plain API), MLCore into a
        // reused output, and raw cblas_sgemm into a reused output, interleaved.
        var g = RandomGenerator(seed: 1)
        for n in [512, 1024, 2048] where wants(["sgemm_mlcore_\(n)", "sgemm_mlcore_into_\(n)", "sgemm_cblas_\(n)"]) {
            let a = Tensor.uniform([n, n], low: -1, high: 1, using: &g)
            let b = Tensor.uniform([n, n], low: -1, high: 1, using: &g)
            var out = Tensor.zeros([n, n])
            let c = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
            defer { c.deallocate() }
            let pa = a.scalars, pb = b.scalars
            record("sgemm", work: 2 * Double(n) * Double(n) * Double(n), unit: "GFLOP/s", [
                ("sgemm_mlcore_\(n)", { _ = Tensor.matmul(a, b) }),
                ("sgemm_mlcore_into_\(n)", { Tensor.matmul(a, b, into: &out) }),
            ])
            // OpenBLAS with its own thread pool (MLCore keeps it single-threaded and splits products
            // itself), in a group of its own: its workers spin for a while after each call.
            openblas_set_num_threads(Int32(Threading.count))
            record("sgemm", work: 2 * Double(n) * Double(n) * Double(n), unit: "GFLOP/s", [
                ("sgemm_cblas_\(n)", {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                                pa, Int32(n), pb, Int32(n), 0, c, Int32(n))
                }),
            ])
            openblas_set_num_threads(1)
        }

        // Element-wise and softmax on `elements` floats; GB/s counts bytes read + written.
        let n = elements
        if wants(["add", "mul", "exp", "gelu_tanh", "gelu_erf", "softmax_rows_1024", "sum"]) {
            let x = Tensor.uniform([n], low: -4, high: 4, using: &g)
            let y = Tensor.uniform([n], low: -4, high: 4, using: &g)
            let bytes2 = Double(n) * 4 * 2, bytes3 = Double(n) * 4 * 3
            record("add", "elementwise", work: bytes3, unit: "GB/s") { _ = x + y }
            record("mul", "elementwise", work: bytes3, unit: "GB/s") { _ = x * y }
            record("exp", "elementwise", work: bytes2, unit: "GB/s") { _ = x.exp() }
            record("gelu_tanh", "elementwise", work: bytes2, unit: "GB/s") { _ = x.geluTanh() }
            record("gelu_erf", "elementwise", work: bytes2, unit: "GB/s") { _ = x.gelu() }
            let rows = x.reshaped([n / 1024, 1024])
            record("softmax_rows_1024", "softmax", work: bytes2, unit: "GB/s") { _ = rows.softmax(axis: -1) }
            record("sum", "reduction", work: Double(n) * 4, unit: "GB/s") { _ = x.sum() }
        }

        if wants(["checkpoint_read_all"]), FileManager.default.fileExists(atPath: checkpoint) {
            let size = Double((try? FileManager.default.attributesOfItem(atPath: checkpoint)[.size] as? Int) ?? 0)
            record("checkpoint_read_all", "io", work: size, unit: "GB/s") {
                _ = try? Checkpoint(path: checkpoint).loadAll()
            }
        } else if wants(["checkpoint_read_all"]) {
            FileHandle.standardError.write(Data("skipping checkpoint_read_all: \(checkpoint) missing (run make data)\n".utf8))
        }

        // Tokenizers on the tweet corpus: MB/s of UTF-8 input, one text at a time on one thread, and
        // encodeBatch on all threads (peer: HF tokenizers' encode loop and encode_batch).
        let tokenizerCases = ["minilm-l6", "smollm2"].flatMap { ["tokenize_\($0)_loop", "tokenize_\($0)_batch"] }
        if wants(tokenizerCases), FileManager.default.fileExists(atPath: tweets) {
            let texts = try HDF5File(path: tweets).dataset("text").readStrings()
            let bytes = Double(texts.reduce(0) { $0 + $1.utf8.count })
            for model in ["minilm-l6", "smollm2"] {
                let path = "data/models/\(model).h5"
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let tokenizer = try loadTokenizer(from: Checkpoint(path: path))
                record("tokenize_\(model)_loop", "tokenize", work: bytes, unit: "GB/s") {
                    let saved = Threading.count
                    Threading.count = 1
                    for t in texts { _ = tokenizer.encode(t, addSpecialTokens: true) }
                    Threading.count = saved
                }
                record("tokenize_\(model)_batch", "tokenize", work: bytes, unit: "GB/s") {
                    _ = tokenizer.encodeBatch(texts, addSpecialTokens: true)
                }
            }
        } else if wants(tokenizerCases) {
            FileHandle.standardError.write(Data("skipping tokenizer cases: \(tweets) missing (run make data)\n".utf8))
        }

        if FileManager.default.fileExists(atPath: bertCheckpoint) {
            try ModelBench.bert(checkpoint: bertCheckpoint, filter: filter) { group, work, unit, cases in
                record(group, work: work, unit: unit, cases)
            }
        } else {
            FileHandle.standardError.write(Data("skipping BERT cases: \(bertCheckpoint) missing (run make data)\n".utf8))
        }

        if FileManager.default.fileExists(atPath: llamaCheckpoint) {
            results += try ModelBench.llama(checkpoint: llamaCheckpoint, promptTokens: promptTokens, decodeTokens: decodeTokens,
                                            repeats: repeats, filter: filter)
        } else {
            FileHandle.standardError.write(Data("skipping llama cases: \(llamaCheckpoint) missing (run make data)\n".utf8))
        }

        // One AdamW step over a parameter set shaped like all-MiniLM-L6-v2 (103 tensors, 22.7M floats),
        // G parameters per second (peer: Benchmarks/peers/torch_optim_bench.py, torch.optim.AdamW).
        if wants(["adamw_step_mlcore"]) {
            let params = Bench.miniLMShapes().enumerated().map { k, shape -> Parameter in
                let p = Parameter(Tensor.uniform(shape, low: -1, high: 1, using: &g), name: "p\(k)")
                p.grad = Tensor.uniform(shape, low: -1, high: 1, using: &g)
                return p
            }
            let optimizer = AdamW(params, learningRate: 1e-3, weightDecay: 0.01)
            let count = Double(params.reduce(0) { $0 + $1.value.count })
            record("adamw_step_mlcore", "optim", work: count, unit: "Gparam/s") { optimizer.step() }
        }

        // Exact kNN (FlatL2Index, REB's scoring) on `knnBank` × `knnDimension` random vectors with
        // `knnQueries` queries, k = 1 (scoring) and 11 (LDKNN densities); work = 2·Q·M·D flops.
        // Peer: faiss IndexFlatL2 (Benchmarks/peers/faiss_knn_bench.py, the same sizes).
        let knnCases = ["knn_flatl2_k1", "knn_flatl2_k11", "knn_flatl2_k1_threaded_gemm"]
        if wants(knnCases) {
            let bank = (0..<(knnBank * knnDimension)).map { _ in g.normal() }
            let queries = (0..<(knnQueries * knnDimension)).map { _ in g.normal() }
            let index = try FlatL2Index(vectors: bank, dimension: knnDimension)
            let threaded = try FlatL2Index(vectors: bank, dimension: knnDimension)
            threaded.parallelOverQueryBlocks = false
            let flops = 2 * Double(knnQueries) * Double(knnBank) * Double(knnDimension)
            record("knn", work: flops, unit: "GFLOP/s", [
                ("knn_flatl2_k1", { _ = try? index.search(queries, k: 1) }),
                ("knn_flatl2_k11", { _ = try? index.search(queries, k: 11) }),
                ("knn_flatl2_k1_threaded_gemm", { _ = try? threaded.search(queries, k: 1) }),
            ])
        }

        if FileManager.default.fileExists(atPath: efficientnet) {
            try ModelBench.efficientnet(checkpoint: efficientnet, filter: filter) { group, work, unit, cases in record(group, work: work, unit: unit, cases) }
            try ModelBench.efficientnetTrainStep(checkpoint: efficientnet, filter: filter) { group, work, unit, cases in record(group, work: work, unit: unit, cases) }
        } else {
            FileHandle.standardError.write(Data("skipping EfficientNet cases: \(efficientnet) missing (run make data)\n".utf8))
        }

        ModelBench.pfami(filter: filter) { group, work, unit, cases in record(group, work: work, unit: unit, cases) }

        if wants(GraphBench.names()) {
            GraphBench.run(nodes: graphNodes, edges: graphEdges, features: graphFeatures) { record($0, work: $1, unit: $2, $3) }
        }

        // `mlcore metric auroc` on 10^6 scored items and `mlcore metric trec` on 10^4 queries × 1000
        // documents: the built executable beside this one, start-up, streamed reading and report
        // included (work in millions of lines). Peers: scikit-learn and pytrec_eval on the same files
        // (Benchmarks/peers/metrics_cli_bench.py).
        if let metricInputs {
            let mlcore = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("mlcore")
            func command(_ arguments: [String]) -> () -> Void {
                {
                    let process = Process()
                    process.executableURL = mlcore
                    process.arguments = arguments
                    process.standardOutput = FileHandle.nullDevice
                    do { try process.run() } catch { fatalError("cannot run \(mlcore.path): \(error)") }
                    process.waitUntilExit()
                    if process.terminationStatus != 0 { fatalError("mlcore \(arguments.joined(separator: " ")) exited \(process.terminationStatus)") }
                }
            }
            let directory = URL(fileURLWithPath: metricInputs)
            record("metric_auroc_1e6", "metrics", work: 1e6 * 1e3, unit: "M items/s",
                   command(["metric", "auroc", directory.appendingPathComponent("scores.jsonl").path]))
            record("metric_trec_1e4x1000", "metrics", work: 1e7 * 1e3, unit: "M run lines/s",
                   command(["metric", "trec", "--run", directory.appendingPathComponent("run.txt").path,
                            "--qrels", directory.appendingPathComponent("qrels.txt").path,
                            "-m", "map", "-m", "ndcg_cut.10", "-m", "P.10", "-m", "recall.100", "-m", "recip_rank"]))
        }

        var env = Report.currentEnvironment()
        env["elements"] = .int(n)
        env["repeats"] = .int(repeats)
        env["graph"] = ["nodes": .int(graphNodes), "edges": .int(graphEdges), "features": .int(graphFeatures)]
        env["knn"] = ["bank": .int(knnBank), "queries": .int(knnQueries), "dimension": .int(knnDimension)]
        let doc: JSONValue = ["tool": "mlcore-bench", "results": .array(results), "environment": .object(env)]
        let text = try doc.jsonText() + "\n"
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) } else { print(text, terminator: "") }
    }

    /// Parameter shapes of all-MiniLM-L6-v2 in checkpoint order (embeddings, 6 layers, pooler): 103
    /// tensors, 22,713,216 floats. The same list as Benchmarks/peers/torch_optim_bench.py.
    static func miniLMShapes(vocab: Int = 30522, positions: Int = 512, width: Int = 384, ffn: Int = 1536,
                             layers: Int = 6) -> [[Int]] {
        var shapes = [[vocab, width], [positions, width], [2, width], [width], [width]]
        for _ in 0..<layers {
            for _ in 0..<4 { shapes += [[width, width], [width]] }
            shapes += [[width], [width], [ffn, width], [ffn], [width, ffn], [width], [width], [width]]
        }
        return shapes + [[width, width], [width]]
    }
}
