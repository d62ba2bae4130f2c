import Foundation

/// Who a process drctl started is, in terms that outlive drctl: its pid (also its process group),
/// its start time (Linux: field 22 of /proc/PID/stat, clock ticks since boot) and the machine's
/// boot id. Journaled right after the spawn, it lets a later drctl — after a crash — find what is
/// left of the group and wait for it, without mistaking a recycled pid for it.
public struct SpawnedProcess: Sendable, Equatable {
    public let pid: Int32
    public let startTicks: UInt64?
    public let bootId: String?

    public init(pid: Int32, startTicks: UInt64?, bootId: String?) {
        self.pid = pid
        self.startTicks = startTicks
        self.bootId = bootId
    }

    /// The identity of a live (or not yet reaped) process.
    public static func describe(pid: Int32) -> SpawnedProcess {
        SpawnedProcess(pid: pid, startTicks: ProcStat.read(pid)?.startTicks, bootId: currentBootId)
    }

    public var journalDetail: [String: RunValue] {
        var detail: [String: RunValue] = ["pid": .int(Int(pid)), "pgid": .int(Int(pid))]
        if let startTicks { detail["start_ticks"] = .int(Int(startTicks)) }
        if let bootId { detail["boot_id"] = .string(bootId) }
        return detail
    }

    public init?(journalDetail detail: [String: RunValue]) {
        guard case .int(let pgid)? = detail["pgid"], let pid = Int32(exactly: pgid), pid > 1 else { return nil }
        var ticks: UInt64?
        if case .int(let value)? = detail["start_ticks"] { ticks = UInt64(exactly: value) }
        self.init(pid: pid, startTicks: ticks, bootId: detail["boot_id"]?.stringValue)
    }

    public enum Presence: Sendable, Equatable {
        /// Processes of its group still run (how many, when they could be counted).
        case running(members: Int?)
        case gone
        /// It ran on another machine, or before a reboot: nothing here can say.
        case elsewhere
    }

    /// Whether anything of its process group still runs on this machine.
    public func presence() -> Presence {
        if let bootId, let current = Self.currentBootId, bootId != current { return .elsewhere }
        guard let processes = ProcStat.all() else {
            // No /proc (macOS): the group id alone. It cannot be reused while a member lives, but
            // a new group could have taken it once ours was gone.
            return kill(-pid, 0) == 0 || errno == EPERM ? .running(members: nil) : .gone
        }
        // A group id is not handed out again while any member of the group lives; so a leader
        // with this pid but another start time means ours ended and the id was reused.
        if let leader = processes.first(where: { $0.pid == pid }), let startTicks, leader.startTicks != startTicks,
           leader.processGroup == pid {
            return .gone
        }
        let members = processes.filter { process in
            process.processGroup == pid && process.state != "Z" && (startTicks.map { process.startTicks >= $0 } ?? true)
        }
        return members.isEmpty ? .gone : .running(members: members.count)
    }

    /// Signals what is left of the group, after checking once more that it is still this group.
    @discardableResult
    public func signalSurvivors(_ signal: Int32) -> Bool {
        guard case .running = presence() else { return false }
        return kill(-pid, signal) == 0
    }

    static var currentBootId: String? {
        ProcStat.readSmallFile("/proc/sys/kernel/random/boot_id")?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The fields of /proc/PID/stat that identify a process and its group (proc(5)).
struct ProcStat: Sendable {
    let pid: Int32
    let state: Character
    let processGroup: Int32
    let startTicks: UInt64

    static func read(_ pid: Int32) -> ProcStat? {
        readSmallFile("/proc/\(pid)/stat").flatMap { parse($0, pid: pid) }
    }

    /// Every process of this machine; nil without /proc.
    static func all() -> [ProcStat]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc"), names.contains("self") else { return nil }
        return names.compactMap { Int32($0) }.compactMap(read)
    }

    /// "PID (COMM) STATE PPID PGRP … STARTTIME …": COMM may hold spaces and parentheses, so the
    /// fields are counted from the last ")". Field n (1-based, proc(5)) is token n - 3 after it.
    static func parse(_ text: String, pid: Int32) -> ProcStat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let tokens = text[text.index(after: close)...].split(separator: " ")
        guard tokens.count > 19, let state = tokens[0].first, let group = Int32(tokens[2]), let start = UInt64(tokens[19]) else { return nil }
        return ProcStat(pid: pid, state: state, processGroup: group, startTicks: start)
    }

    /// /proc files report a size of 0, so read them to their end with plain read(2).
    static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while bytes.count < 16 * 1024 {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[..<count])
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
