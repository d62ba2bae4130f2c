import CCurl
import Foundation
import Logging

/// HTTP over libcurl's multi interface: one thread drives every transfer, so hundreds of requests
/// can be in flight without a thread each; the multi handle's connection cache keeps connections
/// alive between requests. TLS peer and host verification are always on.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var timeouts: HTTPTimeouts
        /// Responses larger than this fail with `.responseTooLarge` instead of filling memory.
        public var maximumResponseBytes: Int
        public var proxy: ProxySettings
        /// Connections kept open in the cache across requests.
        public var maximumCachedConnections: Int
        /// A CA bundle (PEM) to verify peers with instead of libcurl's default CA file (CURLOPT_CAINFO),
        /// e.g. one holding a TLS-intercepting proxy's CA, like boto3's AWS_CA_BUNDLE.
        public var caBundlePath: String?

        public init(timeouts: HTTPTimeouts = HTTPTimeouts(), maximumResponseBytes: Int = 64 << 20,
                    proxy: ProxySettings = ProxySettings(environment: ProcessInfo.processInfo.environment),
                    maximumCachedConnections: Int = 128, caBundlePath: String? = nil) {
            self.timeouts = timeouts
            self.maximumResponseBytes = maximumResponseBytes
            self.proxy = proxy
            self.maximumCachedConnections = maximumCachedConnections
            self.caBundlePath = caBundlePath
        }
    }

    public let configuration: Configuration
    private let loop: CurlMultiLoop

    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "drctl.http")) {
        self.configuration = configuration
        self.loop = CurlMultiLoop(maximumCachedConnections: configuration.maximumCachedConnections)
    }

    deinit { loop.stop() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try CurlTransfer(request: request, configuration: configuration)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }
}

/// The thread that owns the multi handle. Other threads only touch the two queues under the lock
/// and wake the thread with `curl_multi_wakeup`, the one multi call that is thread-safe.
final class CurlMultiLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var submitted: [CurlTransfer] = []
    private var cancelled: [CurlTransfer] = []
    private var stopping = false
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]   // touched by the loop thread only

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(maximumCachedConnections: Int) {
        _ = Self.globalInit
        multi = curl_multi_init()
        _ = drctl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maximumCachedConnections)
        let thread = Thread { [self] in self.run() }
        thread.name = "drctl.curl"
        thread.start()
    }

    func submit(_ transfer: CurlTransfer) {
        lock.lock()
        let accepted = !stopping
        if accepted { submitted.append(transfer) }
        lock.unlock()
        if accepted {
            curl_multi_wakeup(multi)
        } else {
            transfer.finish(.failure(TransportError(kind: .cancelled, url: transfer.url, detail: "transport stopped")))
        }
    }

    func cancel(_ transfer: CurlTransfer) {
        // The task may be cancelled before `submit`, and the loop may pick up this cancellation
        // before the submission: the flag makes the loop refuse the transfer when it arrives.
        transfer.requestCancellation()
        lock.lock()
        cancelled.append(transfer)
        lock.unlock()
        curl_multi_wakeup(multi)
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        curl_multi_wakeup(multi)
    }

    private func run() {
        var running: Int32 = 0
        while true {
            lock.lock()
            let newTransfers = submitted
            let toCancel = cancelled
            let shouldStop = stopping
            submitted.removeAll()
            cancelled.removeAll()
            lock.unlock()

            for transfer in newTransfers {
                guard !transfer.isCancellationRequested else {
                    transfer.finish(.failure(TransportError(kind: .cancelled, url: transfer.url, detail: "")))
                    continue
                }
                active[transfer.easy] = transfer
                curl_multi_add_handle(multi, transfer.easy)
            }
            for transfer in toCancel {
                guard active.removeValue(forKey: transfer.easy) != nil else { continue }
                curl_multi_remove_handle(multi, transfer.easy)
                transfer.finish(.failure(TransportError(kind: .cancelled, url: transfer.url, detail: "")))
            }
            if shouldStop {
                for transfer in active.values {
                    curl_multi_remove_handle(multi, transfer.easy)
                    transfer.finish(.failure(TransportError(kind: .cancelled, url: transfer.url, detail: "transport stopped")))
                }
                active.removeAll()
                curl_multi_cleanup(multi)
                return
            }

            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                if let transfer = active.removeValue(forKey: easy) {
                    transfer.complete(code: code)
                }
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }
}
