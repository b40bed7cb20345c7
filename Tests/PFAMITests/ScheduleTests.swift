import MLCore
import XCTest

@testable import PFAMI

final class ScheduleTests: XCTestCase {
    /// ᾱ of the linear schedule β = linspace(1e-4, 0.02, 1000) (DDPM; diffusers' DDPMScheduler): ᾱ₀ = 1 − 1e-4.
    func testAlphaBarValues() {
        let s = NoiseSchedule()
        XCTAssertEqual(s.alphaBar[0], 0.9999, accuracy: 1e-12)
        XCTAssertEqual(s.alphaBar[50], 0.96995, accuracy: 5e-6)
        XCTAssertEqual(s.alphaBar[100], 0.89514, accuracy: 5e-6)
        XCTAssertEqual(s.alphaBar[450], 0.12584, accuracy: 5e-6)
    }
}
