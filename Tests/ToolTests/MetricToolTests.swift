import Foundation
import XCTest

/// `mlcore metric <family>` end to end through the built executable: agreement with pytrec_eval and
/// pycocoevalcap on inputs nobody here wrote (Tests/Fixtures/metric_cli_*.json, made by
/// Tools/reference/make_metric_cli_fixtures.py from gensim's corpora), with scikit-learn, numpy and
/// scipy on the committed metrics fixtures (Tools/reference/make_metrics_fixtures.py), and the errors:
/// file and line of a malformed line, NaN refused, one class → null with its reason and exit 3.
final class MetricToolTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlcore-metric-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func fixture(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/\(name)"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func file(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func jsonText(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Runs `mlcore metric ...`, expects `status` and returns the report's metrics.
    func metrics(_ arguments: [String], stdin: String? = nil, status: Int32 = 0,
                 file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let result = try runTool("mlcore", ["metric"] + arguments, stdin: stdin)
        XCTAssertEqual(result.status, status, result.stderr, file: file, line: line)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], file: file, line: line)
        return try XCTUnwrap(report["metrics"] as? [String: Any], file: file, line: line)
    }

    func near(_ actual: Any?, _ expected: Double, _ what: String, tolerance: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
        guard let a = (actual as? NSNumber)?.doubleValue else { return XCTFail("\(what): \(String(describing: actual)) is not a number", file: file, line: line) }
        XCTAssertEqual(a, expected, accuracy: tolerance, what, file: file, line: line)
    }

    /// `--format trec -q` equals pytrec_eval for every measure offered, per query and "all", on two
    /// runs over the Lee corpus with qrels from its human similarity judgments; the default 4-decimal
    /// output is trec_eval's text (measure padded to 22, tab, query, tab, value).
    func testTRECMatchesPytrecEval() throws {
        let f = try fixture("metric_cli_trec.json")
        let qrels = try file("qrels.txt", f["qrels"] as! String)
        var compared = 0
        for c in f["cases"] as! [[String: Any]] {
            let name = c["name"] as! String
            let run = try file("\(name).run", c["run"] as! String)
            let measures = (c["measures"] as! [String]).flatMap { ["-m", $0] }
            let result = try runTool("mlcore", ["metric", "trec", "--run", run, "--qrels", qrels, "--format", "trec", "-q", "--decimals", "10"] + measures)
            XCTAssertEqual(result.status, 0, result.stderr)
            var got: [String: Double] = [:]
            for line in result.stdout.split(separator: "\n") {
                let parts = line.split(separator: "\t")
                XCTAssertEqual(parts.count, 3, String(line))
                got[parts[0].trimmingCharacters(in: .whitespaces) + " " + parts[1]] = Double(parts[2])
            }
            let perQuery = c["per_query"] as! [String: [String: Double]], all = c["all"] as! [String: Double]
            for (query, values) in perQuery {
                for (measure, expected) in values {
                    near(got["\(measure) \(query)"], expected, "\(name) \(measure) \(query)")
                    compared += 1
                }
            }
            for (measure, expected) in all {
                near(got["\(measure) all"], expected, "\(name) \(measure) all")
                compared += 1
            }
            XCTAssertEqual(Set(got.keys), Set(perQuery.flatMap { q, v in v.keys.map { "\($0) \(q)" } } + all.keys.map { "\($0) all" }), name)
            // trec_eval's own layout and 4 decimals, and the JSON report's means.
            let plain = try runTool("mlcore", ["metric", "trec", "--run", run, "--qrels", qrels, "--format", "trec", "-m", "map", "-m", "P.5"])
            XCTAssertEqual(plain.stdout, String(format: "map                   \tall\t%.4f\nP_5                   \tall\t%.4f\n",
                                                all["map"]!, all["P_5"]!))
            let json = try metrics(["trec", "--run", run, "--qrels", qrels, "-m", "ndcg_cut.10", "-m", "recip_rank"])
            near(json["ndcg_cut_10"], all["ndcg_cut_10"]!, "\(name) JSON ndcg_cut_10")
            near(json["recip_rank"], all["recip_rank"]!, "\(name) JSON recip_rank")
            XCTAssertEqual(json["num_q"] as? Int, perQuery.count)
            // Per-query lines feed a seeded bootstrap of MAP whose estimate is the mean.
            let lines = directory.appendingPathComponent("\(name)-ap.jsonl").path
            _ = try metrics(["trec", "--run", run, "--qrels", qrels, "-m", "map", "--query-lines", lines])
            let ap = try String(contentsOfFile: lines, encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(ap.count, perQuery.count)
            let boot = try metrics(["bootstrap", "--key", "map", "--seed", "3", lines])
            let interval = try XCTUnwrap(boot["interval"] as? [String: Double])
            near(interval["estimate"], all["map"]!, "\(name) bootstrap estimate")
            XCTAssertLessThan(interval["lower"]!, interval["estimate"]!)
            XCTAssertGreaterThan(interval["upper"]!, interval["estimate"]!)
        }
        XCTAssertGreaterThan(compared, 4000)
    }

    /// `metric caption` on COCO-format files equals pycocoevalcap (PTBTokenizer + Bleu/Rouge/Cider):
    /// raw sentences through our tokenizer, and every sentence pre-tokenized with --tokenized.
    func testCaptionMatchesPycocoevalcap() throws {
        for c in try fixture("metric_cli_caption.json")["cases"] as! [[String: Any]] {
            let name = c["name"] as! String
            let references = try file("\(name)-references.json", try jsonText(c["references"]!))
            let candidates = try file("\(name)-results.json", try jsonText(c["candidates"]!))
            let m = try metrics(["caption", "--candidates", candidates, "--references", references, "-q"]
                                + ((c["tokenized"] as! Bool) ? ["--tokenized"] : []))
            for (key, expected) in c["expected"] as! [String: Double] { near(m[key], expected, "\(name) \(key)") }
            let per = try XCTUnwrap(m["per_image"] as? [String: [String: Double]])
            for (image, values) in c["per_image"] as! [String: [String: Double]] {
                near(per[image]?["rouge_l"], values["rouge_l"]!, "\(name) \(image) rouge_l")
                near(per[image]?["cider_d"], values["cider_d"]!, "\(name) \(image) cider_d")
            }
            XCTAssertEqual(m["images"] as? Int, (c["candidates"] as! [Any]).count)
            // Per-image lines: a seeded bootstrap of CIDEr-D whose estimate is the corpus value.
            let lines = directory.appendingPathComponent("\(name)-images.jsonl").path
            _ = try metrics(["caption", "--candidates", candidates, "--references", references, "--image-lines", lines]
                            + ((c["tokenized"] as! Bool) ? ["--tokenized"] : []))
            XCTAssertEqual(try String(contentsOfFile: lines, encoding: .utf8).split(separator: "\n").count, (c["candidates"] as! [Any]).count)
            let boot = try metrics(["bootstrap", "--key", "cider_d", "--seed", "4", lines])
            near((boot["interval"] as? [String: Double])?["estimate"], (c["expected"] as! [String: Double])["cider_d"]!, "\(name) bootstrap CIDEr-D")
        }
    }

    /// `metric auroc` (and its alias `score auroc`) equals scikit-learn's roc_auc_score and
    /// average_precision_score and the TPR-at-FPR definition on the ROC fixtures with two classes.
    func testAUROCMatchesScikitLearn() throws {
        var compared = 0
        for c in try fixture("metrics_roc.json")["cases"] as! [[String: Any]] {
            guard let auroc = c["auroc"] as? Double else { continue }
            let scores = c["scores"] as! [Double], labels = c["labels"] as! [Int]
            let lines = try zip(scores, labels).map { try jsonText(["score": $0, "label": $1]) }.joined(separator: "\n") + "\n"
            let rates = c["fpr_points"] as! [Double], tpr = c["tpr_at_fpr"] as! [Double]
            let m = try metrics(["auroc", "--roc"] + rates.flatMap { ["--fpr", "\($0)"] }, stdin: lines)
            near(m["auroc"], auroc, "\(c["name"]!) auroc")
            near(m["average_precision"], c["average_precision"] as! Double, "\(c["name"]!) average precision")
            let byRate = try XCTUnwrap(m["tpr_at_fpr"] as? [String: Double])
            for (x, t) in zip(rates, tpr) {
                let key = x == x.rounded() ? String(Int(x)) : "\(x)"
                near(byRate[key], t, "\(c["name"]!) tpr at \(x)")
            }
            let curve = try XCTUnwrap(m["roc"] as? [String: Any])
            let curveTPR = try XCTUnwrap(curve["tpr"] as? [Double]), expectedTPR = c["tpr"] as! [Double]
            XCTAssertEqual(curveTPR.count, expectedTPR.count)
            for (a, e) in zip(curveTPR, expectedTPR) { near(a, e, "\(c["name"]!) roc tpr") }
            XCTAssertTrue((curve["thresholds"] as? [Any])?.first is NSNull)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 30)
        let alias = try runTool("mlcore", ["score", "auroc"], stdin: "{\"score\": 0.2, \"label\": 0}\n{\"score\": 0.9, \"label\": 2}\n{\"score\": 0.1, \"label\": 1}\n")
        XCTAssertEqual(alias.status, 0, alias.stderr)
        let m = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(alias.stdout.utf8)) as? [String: Any])?["metrics"] as? [String: Any])
        near(m["auroc"], 0.5, "alias auroc")  // positives 0.9 (above 0.2) and 0.1 (below): 1/2
        XCTAssertEqual(m["auroc_per_label"] as? [String: Double], ["1": 0, "2": 1])
    }

    /// Errors: a malformed line names the file and line (65), NaN and infinite scores are refused (65),
    /// one class gives auroc null with the reason and exit 3 (average precision stays defined).
    func testErrorsNameFileAndLineAndUndefinedIsNull() throws {
        let bad = try file("scores.jsonl", "{\"score\": 0.5, \"label\": 1}\n\n{\"score\": 0.4 \"label\": 0}\n")
        let malformed = try runTool("mlcore", ["metric", "auroc", bad])
        XCTAssertEqual(malformed.status, 65)
        XCTAssertTrue(malformed.stderr.hasPrefix("mlcore metric auroc: \(bad):3: malformed line"), malformed.stderr)
        XCTAssertEqual(malformed.stdout, "")
        for value in ["NaN", "Infinity", "-Infinity", "1e999"] {
            let r = try runTool("mlcore", ["metric", "auroc"], stdin: "{\"score\": 1, \"label\": 0}\n{\"score\": \(value), \"label\": 1}\n")
            XCTAssertEqual(r.status, 65, value)
            XCTAssertTrue(r.stderr.contains("stdin:2: malformed line, expected a finite \"score\""), r.stderr)
        }
        let one = try metrics(["auroc", "--fpr", "0.1"], stdin: "{\"score\": 0.3, \"label\": 1}\n{\"score\": 0.7, \"label\": 1}\n", status: 3)
        XCTAssertTrue(one["auroc"] is NSNull)
        XCTAssertTrue(one["tpr_at_fpr"] is NSNull)
        XCTAssertEqual(one["average_precision"] as? Double, 1)
        XCTAssertEqual((one["undefined"] as? [String: String])?["auroc"], "only one class present in labels (2 positive of 2)")
        let none = try metrics(["auroc"], stdin: "{\"score\": 0.3, \"label\": 0}\n", status: 3)
        XCTAssertTrue(none["average_precision"] is NSNull)
        let empty = try runTool("mlcore", ["metric", "auroc"], stdin: "\n")
        XCTAssertEqual(empty.status, 65, empty.stderr)
        let missing = try runTool("mlcore", ["metric", "trec", "--run", "/nonexistent/run", "--qrels", "/nonexistent/qrels"])
        XCTAssertEqual(missing.status, 66, missing.stderr)
        let run = try file("run.txt", "q1 Q0 d1 1 0.5 tag\nq1 Q0 d2 2 x tag\n"), qrels = try file("qrels.txt", "q1 0 d1 1\n")
        let trec = try runTool("mlcore", ["metric", "trec", "--run", run, "--qrels", qrels])
        XCTAssertEqual(trec.status, 65)
        XCTAssertTrue(trec.stderr.contains("\(run):2: malformed line, expected a finite score in field 5, found 'x'"), trec.stderr)
        let measure = try runTool("mlcore", ["metric", "trec", "--run", run, "--qrels", qrels, "-m", "bpref"])
        XCTAssertEqual(measure.status, 64, measure.stderr)
    }

    /// classification and calibration equal scikit-learn (accuracy, P/R/F1, confusion matrix, log loss,
    /// Brier) and the ECE definition on the classification fixtures.
    func testClassificationAndCalibrationMatchFixtures() throws {
        var compared = 0
        for c in try fixture("metrics_classification.json")["cases"] as! [[String: Any]] {
            let labels = c["labels"] as! [Int], predictions = c["predictions"] as! [Int], probs = c["probabilities"] as! [[Double]]
            guard !labels.isEmpty, let macro = c["macro"] as? [Double], let binary = c["binary"] as? [Double] else { continue }
            let name = c["name"] as! String, classes = c["classes"] as! Int
            let lines = try labels.indices.map { try jsonText(["prediction": predictions[$0], "label": labels[$0], "probs": probs[$0]]) }
                .joined(separator: "\n")
            let m = try metrics(["classification", "--classes", "\(classes)"], stdin: lines)
            near(m["accuracy"], c["accuracy"] as! Double, "\(name) accuracy")
            let mb = try XCTUnwrap(m["binary"] as? [String: Double]), mm = try XCTUnwrap(m["macro"] as? [String: Double])
            for (k, key) in ["precision", "recall", "f1"].enumerated() {
                near(mb[key], binary[k], "\(name) binary \(key)")
                near(mm[key], macro[k], "\(name) macro \(key)")
            }
            XCTAssertEqual(m["confusion_matrix"] as? [[Int]], c["confusion"] as? [[Int]], name)
            let cal = try metrics(["calibration"], stdin: lines)
            near(cal["ece"], c["ece"] as! Double, "\(name) ece")
            if let nll = c["log_loss"] as? Double { near(cal["nll"], nll, "\(name) nll") }
            if let brier = c["brier"] as? Double { near(cal["brier"], brier, "\(name) brier") }
            let bins = try XCTUnwrap(cal["reliability"] as? [[String: Any]])
            XCTAssertEqual(bins.map { $0["count"] as? Int }, (c["bins"] as! [[Double]]).map { Int($0[0]) }, name)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 30)
        // Predictions from "probs" alone: the arg-max.
        let fromProbs = try metrics(["classification"], stdin: "{\"probs\": [0.2, 0.8], \"label\": 1}\n{\"probs\": [0.6, 0.4], \"label\": 1}\n")
        XCTAssertEqual(fromProbs["accuracy"] as? Double, 0.5)
        let ragged = try runTool("mlcore", ["metric", "calibration"], stdin: "{\"probs\": [0.2, 0.8], \"label\": 1}\n{\"probs\": [1], \"label\": 0}\n")
        XCTAssertEqual(ragged.status, 65)
        XCTAssertTrue(ragged.stderr.contains("stdin:2:"), ragged.stderr)
    }

    /// ranking (MR, MRR, Hits@k under the three tie policies), pose (MPJPE, PA-MPJPE) and bootstrap
    /// (the same draws as the fixture's Python PCG32) equal the committed reference values.
    func testRankingPoseAndBootstrapMatchFixtures() throws {
        for c in (try fixture("metrics_link_prediction.json")["cases"] as! [[String: Any]]).prefix(14) {
            let queries = c["queries"] as! [[String: Any]]
            let lines = try queries.map { try jsonText(["optimistic": $0["optimistic"]!, "pessimistic": $0["pessimistic"]!]) }.joined(separator: "\n")
            for (policy, s) in c["summaries"] as! [String: [String: Any]] {
                let m = try metrics(["ranking", "--ties", policy], stdin: lines)
                near(m["mr"], s["mr"] as! Double, "\(c["name"]!) \(policy) mr")
                near(m["mrr"], s["mrr"] as! Double, "\(c["name"]!) \(policy) mrr")
                let hits = try XCTUnwrap(m["hits_at"] as? [String: Double])
                for (k, h) in zip(["1", "3", "10"], s["hits"] as! [Double]) { near(hits[k], h, "\(c["name"]!) \(policy) hits@\(k)") }
            }
        }
        for c in (try fixture("metrics_pose.json")["cases"] as! [[String: Any]]).prefix(16) {
            let joints = c["joints"] as! Int, p = c["predicted"] as! [Double], t = c["target"] as! [Double]
            func rows(_ a: [Double], _ sample: Int) -> [[Double]] {
                (0..<joints).map { j in Array(a[(sample * joints + j) * 3..<(sample * joints + j) * 3 + 3]) }
            }
            let lines = try (0..<(t.count / (3 * joints))).map { try jsonText(["predicted": rows(p, $0), "target": rows(t, $0)]) }
                .joined(separator: "\n")
            let m = try metrics(["pose"], stdin: lines)
            near(m["mpjpe"], c["mpjpe"] as! Double, "\(c["name"]!) mpjpe", tolerance: 1e-6 * max(1, c["mpjpe"] as! Double))
            near(m["pa_mpjpe"], c["pa_mpjpe"] as! Double, "\(c["name"]!) pa_mpjpe", tolerance: 1e-6 * max(1, c["mpjpe"] as! Double))
        }
        for c in (try fixture("metrics_statistics.json")["cases"] as! [[String: Any]]).prefix(12) {
            let data = c["data"] as! [Double], expected = c["bootstrap"] as! [Double]
            let lines = try data.map { try jsonText(["x": $0]) }.joined(separator: "\n")
            let m = try metrics(["bootstrap", "--key", "x", "--seed", "\(c["seed"]!)", "--resamples", "\(c["resamples"]!)"], stdin: lines)
            let interval = try XCTUnwrap(m["interval"] as? [String: Double])
            near(interval["estimate"], expected[0], "\(c["name"]!) estimate")
            near(interval["lower"], expected[1], "\(c["name"]!) lower")
            near(interval["upper"], expected[2], "\(c["name"]!) upper")
        }
        // The bootstrap of AUROC is seeded: the same seed gives the same interval, a different one another.
        let scored = (0..<60).map { "{\"score\": \(Double(($0 * 37) % 60) / 60), \"label\": \($0 % 3 == 0 ? 1 : 0)}" }.joined(separator: "\n")
        let a = try metrics(["bootstrap", "--statistic", "auroc", "--seed", "5", "--resamples", "200"], stdin: scored)
        let b = try metrics(["bootstrap", "--statistic", "auroc", "--seed", "5", "--resamples", "200"], stdin: scored)
        let other = try metrics(["bootstrap", "--statistic", "auroc", "--seed", "6", "--resamples", "200"], stdin: scored)
        XCTAssertEqual(a["interval"] as? [String: Double], b["interval"] as? [String: Double])
        XCTAssertNotEqual(a["interval"] as? [String: Double], other["interval"] as? [String: Double])
        let auroc = try metrics(["auroc"], stdin: scored)
        near((a["interval"] as? [String: Double])?["estimate"], (auroc["auroc"] as! NSNumber).doubleValue, "bootstrap estimate = auroc")
    }
    /// `bootstrap --statistic` covers every family: on the same lines, each statistic's estimate is the
    /// value its family command reports (classification, calibration, ranking with ties, pose with
    /// vertices), its interval contains it, and a missing file is named as missing (exit 66).
    func testBootstrapEstimatesEqualEveryFamilysMetric() throws {
        var probs: [String] = [], preds: [String] = [], ranks: [String] = [], poses: [String] = []
        for i in 0..<90 {
            let p = Double((i * 37) % 89) / 89, y = (i * 53) % 7 < Int(p * 7 + 0.5) ? 1 : 0
            probs.append(try jsonText(["probs": [1 - p, p], "label": y]))
            preds.append(try jsonText(["prediction": (i * 7) % 3, "label": (i * 5 + i / 4) % 3]))
            ranks.append(i % 3 == 0 ? try jsonText(["optimistic": 1 + i % 4, "pessimistic": 4 + i % 9]) : try jsonText(["rank": 1 + (i * 11) % 17]))
            if i < 20 {
                let t = (0..<4).map { j in (0..<3).map { k in Double((i * 13 + j * 7 + k * 3) % 11) / 5 } }
                let q = t.enumerated().map { j, row in row.enumerated().map { k, v in v + Double((i + j * 3 + k) % 5 - 2) / 20 } }
                poses.append(try jsonText(["predicted": q, "target": t, "predicted_vertices": Array(q.prefix(3)), "target_vertices": Array(t.prefix(3))]))
            }
        }
        let probsFile = try file("probs.jsonl", probs.joined(separator: "\n")), predsFile = try file("preds.jsonl", preds.joined(separator: "\n"))
        let ranksFile = try file("ranks.jsonl", ranks.joined(separator: "\n")), posesFile = try file("poses.jsonl", poses.joined(separator: "\n"))
        let calibration = try metrics(["calibration", "--bins", "7", probsFile])
        let classification = try metrics(["classification", predsFile])
        let ranking = try metrics(["ranking", "--hits", "3", "--ties", "pessimistic", ranksFile])
        let pose = try metrics(["pose", posesFile])
        let macro = try XCTUnwrap(classification["macro"] as? [String: Double]), binary = try XCTUnwrap(classification["binary"] as? [String: Double])
        let hits = try XCTUnwrap(ranking["hits_at"] as? [String: Double])
        let cases: [(String, [String], Any?)] = [
            ("ece", [probsFile, "--bins", "7"], calibration["ece"]), ("nll", [probsFile], calibration["nll"]),
            ("brier", [probsFile], calibration["brier"]),
            ("accuracy", [predsFile], classification["accuracy"]), ("f1", [predsFile], binary["f1"]),
            ("macro-f1", [predsFile], macro["f1"]),
            ("mr", [ranksFile, "--ties", "pessimistic"], ranking["mr"]), ("mrr", [ranksFile, "--ties", "pessimistic"], ranking["mrr"]),
            ("hits", [ranksFile, "--ties", "pessimistic", "--hits", "3"], hits["3"]),
            ("mpjpe", [posesFile], pose["mpjpe"]), ("pa-mpjpe", [posesFile], pose["pa_mpjpe"]), ("pve", [posesFile], pose["pve"]),
        ]
        for (statistic, arguments, expected) in cases {
            let m = try metrics(["bootstrap", "--statistic", statistic, "--seed", "2", "--resamples", "300"] + arguments)
            let interval = try XCTUnwrap(m["interval"] as? [String: Double], statistic)
            let value = try XCTUnwrap((expected as? NSNumber)?.doubleValue, statistic)
            near(interval["estimate"], value, "bootstrap \(statistic) estimate", tolerance: 1e-9 * max(1, abs(value)))
            XCTAssertLessThanOrEqual(interval["lower"]!, interval["upper"]!, statistic)
            XCTAssertLessThan(interval["lower"]!, interval["upper"]!, "\(statistic): 90 varied items give an interval of some width")
        }
        let missing = try runTool("mlcore", ["metric", "auroc", directory.appendingPathComponent("nope.jsonl").path])
        XCTAssertEqual(missing.status, 66)
        XCTAssertTrue(missing.stderr.contains("nope.jsonl: no such file"), missing.stderr)
    }
}
