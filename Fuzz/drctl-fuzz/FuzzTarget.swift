import Foundation

/// One fuzz target: a name for `DRCTL_FUZZ_TARGET` and a function that feeds the bytes to a parser
/// and checks what came back. A broken invariant aborts, which libFuzzer records as a crash with
/// the input that caused it.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void
}

enum FuzzTargets {
    static let all: [FuzzTarget] = [
        RunbookFuzzTarget.target, PlanFuzzTarget.target, ExpressionFuzzTarget.target, DurationFuzzTarget.target,
        XMLFuzzTarget.target, AWSResponseFuzzTarget.target, JSONFuzzTarget.target, AWSConfigFuzzTarget.target,
        RenderFuzzTarget.target, GCPKeyFileFuzzTarget.target,
    ]
}

/// Stops the process when an invariant does not hold; the message says which and why.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    FileHandle.standardError.write(Data("drctl-fuzz: invariant broken at \(file):\(line): \(message())\n".utf8))
    abort()
}

/// Bytes as text the way drctl's loaders see them (invalid UTF-8 repaired), for the parsers that take a String.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Durations drctl accepts: finite, not negative, at most 366 days (the range issue 10 sets).
let maximumDurationSeconds = 366.0 * 86400

func requireDurationInRange(_ seconds: Double?, _ what: String) {
    guard let seconds else { return }
    require(seconds.isFinite && seconds >= 0 && seconds <= maximumDurationSeconds,
            "accepted \(what) = \(seconds) s, expected a finite duration from 0 to 366 d")
}
