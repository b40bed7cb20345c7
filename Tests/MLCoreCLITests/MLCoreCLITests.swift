import Foundation
import ArgumentParser
import XCTest
@testable import MLCore
@testable import MLCoreCLI

final class MLCoreCLITests: XCTestCase {
    func testCommonOptionsParseAndValidate() throws {
        let options = try CommonOptions.parse(["--output", "r.json", "--seed", "13", "--threads", "1", "-q"])
        XCTAssertEqual(options.output, "r.json")
        XCTAssertEqual(options.seed, 13)
        XCTAssertEqual(options.threads, 1)
        XCTAssertTrue(options.quiet)
        XCTAssertEqual(options.reportConfig["seed"], .int(13))
        XCTAssertThrowsError(try CommonOptions.parse(["--threads", "0"]))
        XCTAssertEqual(try CommonOptions.parse([]).seed, 0)
        // A seed above Int.max is reported as a string, not a crash.
        XCTAssertEqual(try CommonOptions.parse(["--seed", "18446744073709551615"]).reportConfig["seed"],
                       .string("18446744073709551615"))
    }

    func testProgressText() {
        // 4 of 10 in 2 s: 2 items/s, 3 s left; the live bar fills ⌊0.4 · 24⌋ = 9 of 24.
        XCTAssertEqual(ProgressBar.text(label: "fit", done: 4, total: 10, unit: "images", elapsed: 2, live: false, final: false),
                       "fit: 4/10 ETA 3s 2.0 images/s 2.0s")
        XCTAssertEqual(ProgressBar.text(label: "fit", done: 4, total: 10, unit: "images", elapsed: 2, live: true, final: false),
                       "fit [#########...............] 4/10 ETA 3s 2.0 images/s 2.0s")
        // The final line has no ETA; an unknown total shows the count only; nothing done yet, no ETA.
        XCTAssertEqual(ProgressBar.text(label: "fit", done: 10, total: 10, unit: "images", elapsed: 4, live: false, final: true),
                       "fit: 10/10 2.5 images/s 4.0s")
        XCTAssertEqual(ProgressBar.text(label: "scan", done: 7, total: 0, unit: "rows", elapsed: 1, live: true, final: false),
                       "scan: 7 7.0 rows/s 1.0s")
        XCTAssertEqual(ProgressBar.text(label: "fit", done: 0, total: 10, unit: "images", elapsed: 0, live: false, final: false),
                       "fit: 0/10 0.0 images/s 0.0s")
        // More done than expected: a full bar and ETA 0, not a negative time.
        XCTAssertEqual(ProgressBar.text(label: "fit", done: 12, total: 10, unit: "images", elapsed: 3, live: true, final: false),
                       "fit [########################] 12/10 ETA 0s 4.0 images/s 3.0s")
    }

    func testTrainingProgressLine() {
        // Two steps: mean loss (1 + 0.5) / 2 = 0.75; accuracy only in the second, so its mean is 0.5;
        // the last step's learning rate.
        let records = [
            TrainingStepRecord(step: 9, epoch: 0, loss: 1, learningRate: 0.1, gradientNorm: nil, seconds: 0, dataSeconds: 0, metrics: [:]),
            TrainingStepRecord(step: 10, epoch: 0, loss: 0.5, learningRate: 0.05, gradientNorm: nil, seconds: 0, dataSeconds: 0,
                               metrics: ["accuracy": 0.5, "a": 2]),
        ]
        XCTAssertEqual(TrainingProgress.stepLine("ssl", records, of: 20, annotate: "(frozen)"),
                       "ssl: step 10/20  loss 0.7500  a 2.000  accuracy 0.500  lr 5.00e-02  (frozen)")
        XCTAssertEqual(TrainingProgress.stepLine("ssl", [records[0]], of: 20, annotate: ""), "ssl: step 9/20  loss 1.0000  lr 1.00e-01")
    }

    func testErrorsMapToExitCodesAndOneLine() {
        let cases: [(Error, Int32)] = [
            (DatasetError.unknownName("x", known: ["a", "b"]), 64),
            (HDF5Error.notHDF5(file: "f.h5"), 65),
            (CheckpointError.missingKey(file: "f.h5", key: "w"), 65),
            (HDF5Error.fileNotFound(file: "f.h5"), 66),
            (DatasetError.notPrepared(name: "tweets", path: "data/datasets/tweets.h5"), 66),
            (ValidationError("--k must be positive"), 64),
            (CocoaError(.fileReadUnknown), 70),
        ]
        for (error, code) in cases {
            let (message, exit) = ToolRunner.describe(error)
            XCTAssertEqual(exit, code, message)
            XCTAssertFalse(message.contains("\n"), message)
            XCTAssertFalse(message.isEmpty)
        }
        XCTAssertEqual(ToolRunner.describe(DatasetError.notPrepared(name: "tweets", path: "data/datasets/tweets.h5")).0,
                       "dataset 'tweets' is not prepared: data/datasets/tweets.h5 is missing; run `make data`")
    }

    func testNameOrPathResolution() throws {
        XCTAssertEqual(try resolveNameOrPath("some/dir/file.h5"), "some/dir/file.h5")
        XCTAssertEqual(try resolveNameOrPath("local.h5"), "local.h5")
        XCTAssertThrowsError(try resolveNameOrPath("no-such-entry")) { error in
            XCTAssertEqual(ToolRunner.describe(error).1, 64)
        }
    }
}
