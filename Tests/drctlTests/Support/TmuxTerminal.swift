import Foundation
import Testing

/// A real pseudo-terminal: `drctl` runs in a detached tmux session on a private socket, the test
/// reads the screen and types. The command's exit status is written to a file when it ends.
final class TmuxTerminal: @unchecked Sendable {
    let socket = "drctl-e2e-\(UUID().uuidString.prefix(8))"
    let session = "drctl"
    let exitFile: String
    private let screenFile: String

    /// Starts `drctl arguments` (with the workspace's state store) in a 200×50 terminal.
    init(_ workspace: RunbookWorkspace, _ arguments: [String]) throws {
        exitFile = workspace.directory.appendingPathComponent("exit-\(UUID().uuidString)").path
        screenFile = workspace.directory.appendingPathComponent("screen-\(UUID().uuidString)").path
        let words = [DrctlProcess.executable.path] + workspace.withState(arguments)
        let command = "env -i PATH=/usr/bin:/bin NO_COLOR=1 TERM=xterm HOME=\(Self.quote(workspace.directory.path)) "
            + words.map(Self.quote).joined(separator: " ")
            + "; echo $? > \(Self.quote(exitFile)); sleep 600"
        let started = tmux(["new-session", "-d", "-s", session, "-x", "200", "-y", "50", command])
        #expect(started == 0, "tmux did not start")
    }

    deinit { _ = tmux(["kill-server"]) }

    static func quote(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// What the terminal shows, with its scrollback.
    func screen() -> String {
        guard tmux(["capture-pane", "-p", "-J", "-S", "-500", "-t", session], output: screenFile) == 0 else { return "" }
        return (try? String(contentsOfFile: screenFile, encoding: .utf8)) ?? ""
    }

    /// Waits until `text` appears on the screen at least `times` times.
    @discardableResult
    func waitFor(_ text: String, times: Int = 1, seconds: Double = 30) -> Bool {
        let found = poll(for: seconds, "the terminal shows \"\(text)\" \(times)×") {
            screen().components(separatedBy: text).count - 1 >= times
        }
        if !found { Issue.record("screen:\n\(screen())") }
        return found
    }

    /// Types `line` and presses Enter.
    func type(_ line: String) {
        _ = tmux(["send-keys", "-t", session, "-l", line])
        _ = tmux(["send-keys", "-t", session, "Enter"])
    }

    func pressControlC() { _ = tmux(["send-keys", "-t", session, "C-c"]) }

    /// The command's exit status, once it has ended.
    func exitStatus(seconds: Double = 60) -> Int32? {
        var status: Int32?
        poll(for: seconds, "drctl ends in the terminal") {
            status = (try? String(contentsOfFile: exitFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return status != nil
        }
        return status
    }

    /// Runs tmux with posix_spawn and waits for that pid: Foundation's `Process` can miss the exit
    /// of a tmux client that has just forked its server, and then hangs in `waitUntilExit`.
    @discardableResult
    private func tmux(_ arguments: [String], output: String? = nil) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let words: [String] = ["/usr/bin/tmux", "-L", socket] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let environment: [String] = ["PATH=/usr/bin:/bin", "TERM=xterm"]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // The test runner's threads block signals; without a clean mask, tmux's server and the
        // processes in its panes would inherit it and never die of SIGHUP at kill-server.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/tmux", &actions, &attributes, argv, envp) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }
}
