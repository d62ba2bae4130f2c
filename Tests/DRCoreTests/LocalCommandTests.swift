import Foundation
import Testing
@testable import DRCore

/// Real `/bin/sh` commands: a timeout or a cancelled task stops the command's whole process group
/// and reaps it before `run` returns (no trap reading the status of a live process, no orphans).
struct LocalCommandTests {
    /// True once no process has this pid: `kill(pid, 0)` still succeeds on a zombie, so this
    /// also proves the process was reaped.
    static func isGone(_ pid: Int32) -> Bool { kill(pid, 0) != 0 && errno == ESRCH }

    /// Gone, or dead and waiting for its new parent (init, which may reap late) to reap it.
    static func isDead(_ pid: Int32) -> Bool { isGone(pid) || ProcStat.read(pid)?.state == "Z" }

    /// Polls (a grandchild is reaped by init, not by us).
    static func dies(_ pid: Int32, within seconds: Double = 3) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if isDead(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return isDead(pid)
    }

    static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("drctl-cmd-\(UUID().uuidString)").path
    }

    @Test func cancellingTheTaskStopsTheWholeGroupAndReapsTheShell() async throws {
        let backgroundPidFile = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: backgroundPidFile) }
        let spawned = SpawnedBox()
        let task = Task {
            try await LocalCommand.run("sleep 30 & echo $! > \(backgroundPidFile); sleep 30", environment: ["PATH": "/usr/bin:/bin"],
                                       timeout: 60, grace: 1) { await spawned.set($0) }
        }
        let process = try #require(await spawned.wait())
        while !FileManager.default.fileExists(atPath: backgroundPidFile) { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        let background = try #require(Int32(String(contentsOfFile: backgroundPidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        task.cancel()
        let result = try await task.value

        #expect(result.stopped == .cancelled)
        #expect(result.termination == .signalled(SIGTERM), "SIGTERM ended it; SIGKILL after the grace period was not needed")
        #expect(Self.isGone(process.pid), "the shell is reaped before run returns")
        #expect(await Self.dies(background), "what the shell started in the background is stopped too")
        #expect(process.presence() == .gone, "nothing of the group is left")
    }

    @Test func aCommandThatIgnoresSIGTERMIsKilledAfterTheGracePeriod() async throws {
        let started = Date()
        let result = try await LocalCommand.run("trap '' TERM; sleep 30 & wait", environment: ["PATH": "/usr/bin:/bin"],
                                                timeout: 0.3, grace: 0.5)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.stopped == .timedOut)
        #expect(result.timedOut)
        #expect(result.termination == .signalled(SIGKILL))
        #expect(elapsed >= 0.75, "timeout, then the grace period, then SIGKILL (took \(elapsed)s)")
    }

    @Test func aCommandThatEndsByItselfKeepsItsStatusAndOutput() async throws {
        let result = try await LocalCommand.run("echo out; echo err >&2; exit 3", environment: [:], timeout: 10)
        #expect(result.stopped == nil)
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
    }

    @Test func theCommandGetsOnlyTheGivenEnvironmentAndDefaultSignals() async throws {
        // drctl ignores SIGINT/SIGTERM while a run executes (it handles them itself): the command
        // must not inherit that, or it could never be stopped by SIGTERM.
        signal(SIGINT, SIG_IGN)
        defer { signal(SIGINT, SIG_DFL) }
        let result = try await LocalCommand.run("env; grep -E '^(SigIgn|SigBlk)' /proc/self/status; ls /proc/self/fd",
                                                environment: ["ONLY": "this"], timeout: 10)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("ONLY=this"))
        #expect(!lines.contains { $0.hasPrefix("HOME=") })
        // Signals 1-31 (bits 0-30); glibc keeps its internal real-time signals (32, 33) out of reach
        // of sigaction, and some test runners ignore them.
        func standardSignals(_ field: String) -> UInt64? {
            lines.first { $0.hasPrefix(field) }.flatMap { UInt64($0.dropFirst(field.count).trimmingCharacters(in: .whitespaces), radix: 16) }
                .map { $0 & 0x7FFF_FFFF }
        }
        #expect(standardSignals("SigIgn:") == 0, "\(lines)")
        #expect(standardSignals("SigBlk:") == 0, "\(lines)")
        // stdin, stdout, stderr and the descriptor `ls` opens to list them: nothing of drctl's.
        let descriptors = lines.compactMap { Int($0) }
        #expect(descriptors.count <= 4 && descriptors.allSatisfy { $0 <= 3 }, "\(descriptors)")
    }

    @Test func aMissingWorkingDirectoryIsASpawnErrorNotACrash() async throws {
        await #expect(throws: ChildProcess.SpawnError.self) {
            _ = try await LocalCommand.run("true", environment: [:], timeout: 5, workingDirectory: "/nonexistent/\(UUID().uuidString)")
        }
    }

    @Test func spawnedProcessTellsItsGroupFromARecycledPid() async throws {
        let spawned = SpawnedBox()
        let task = Task {
            // The background sleep outlives the checks below even on a busy machine (a 0.5 s one
            // could end first, leaving a group of one once the shell exec'ed the last command).
            try await LocalCommand.run("sleep 20 & sleep 30", environment: ["PATH": "/usr/bin:/bin"], timeout: 30, grace: 0.5) {
                await spawned.set($0)
            }
        }
        let process = try #require(await spawned.wait())
        #expect(process.startTicks != nil && process.bootId != nil)
        #expect(SpawnedProcess(journalDetail: process.journalDetail) == process)
        // The hook runs while the shell is held before exec: wait until it has started both sleeps.
        let deadline = Date().addingTimeInterval(10)
        while ![.running(members: 2), .running(members: 3)].contains(process.presence()) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(process.presence() == .running(members: 2) || process.presence() == .running(members: 3))
        // Same pid, but started at another time: that is somebody else, so ours is gone.
        let impostor = SpawnedProcess(pid: process.pid, startTicks: (process.startTicks ?? 0) + 1, bootId: process.bootId)
        #expect(impostor.presence() == .gone)
        let otherMachine = SpawnedProcess(pid: process.pid, startTicks: process.startTicks, bootId: "another-boot")
        #expect(otherMachine.presence() == .elsewhere)
        task.cancel()
        _ = try await task.value
        #expect(process.presence() == .gone)
    }
}

/// Hands the spawned process's identity from the `started` hook to the test.
actor SpawnedBox {
    private var value: SpawnedProcess?
    func set(_ process: SpawnedProcess) { value = process }
    func wait() async -> SpawnedProcess? {
        for _ in 0..<500 {
            if let value { return value }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return value
    }
}
