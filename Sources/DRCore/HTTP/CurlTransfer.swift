import CCurl
import Foundation

/// One request's easy handle and the response being received. Created on the caller's thread,
/// then owned by the loop thread until `finish` hands the result to the continuation (exactly once).
final class CurlTransfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    let url: String
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    private let lock = NSLock()
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var responseHeaders = HTTPHeaders()
    private var responseBody: [UInt8] = []
    private let maximumResponseBytes: Int
    private var exceededLimit = false
    private var finished = false
    private var cancellationRequested = false
    /// curl writes its message here when a transfer fails. Allocated, not a Swift array: curl keeps
    /// the pointer for the handle's lifetime, longer than any withUnsafe… closure would allow.
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()

    init(request: HTTPRequest, configuration: CurlTransport.Configuration) throws {
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            throw TransportError(kind: .invalidRequest, url: request.url, detail: "only http and https URLs are supported")
        }
        guard let easy = curl_easy_init() else {
            throw TransportError(kind: .other, url: request.url, detail: "curl_easy_init failed")
        }
        self.easy = easy
        self.url = request.url
        self.maximumResponseBytes = configuration.maximumResponseBytes
        let timeouts = request.timeouts ?? configuration.timeouts

        drctl_easy_setopt_string(easy, CURLOPT_URL, request.url)
        // The URL is already encoded exactly as signed: curl must not rewrite "/./" or "//".
        drctl_easy_setopt_long(easy, CURLOPT_PATH_AS_IS, 1)
        drctl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        drctl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        drctl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        "http,https".withCString { _ = drctl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, $0) }
        drctl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        drctl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect.milliseconds))
        drctl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeouts.total.milliseconds))
        drctl_easy_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(configuration.maximumResponseBytes))
        if let bundle = configuration.caBundlePath {
            drctl_easy_setopt_string(easy, CURLOPT_CAINFO, bundle)
        }
        // The proxy is decided here, not by curl's own environment lookup, so that the rules are
        // the documented ones and an empty string disables curl's.
        drctl_easy_setopt_string(easy, CURLOPT_PROXY, configuration.proxy.proxy(for: request.url) ?? "")
        // Likewise for the exceptions: without this, curl applies the environment's no_proxy on
        // top of the decision above and bypasses a proxy the settings chose.
        drctl_easy_setopt_string(easy, CURLOPT_NOPROXY, "")

        let method = request.method.uppercased()
        switch method {
        case "GET" where request.body.isEmpty:
            drctl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case "HEAD":
            drctl_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        default:
            // COPYPOSTFIELDS needs the size first; it copies, so the request may go away.
            drctl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            request.body.withUnsafeBytes { raw in
                let pointer = UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start))
                _ = drctl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, pointer)
            }
            if method != "POST" {
                drctl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers {
            // "Name;" is curl's spelling of a header with an empty value; "Name:" would remove it.
            let line = value.isEmpty ? "\(name);" : "\(name): \(value)"
            list = curl_slist_append(list, line)
        }
        // Suppress headers curl would add on its own, which the caller did not sign or choose.
        for name in ["Expect", "Accept", "Content-Type"] where !request.headers.contains(name) {
            list = curl_slist_append(list, "\(name):")
        }
        headerList = list
        drctl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)

        let context = Unmanaged.passUnretained(self).toOpaque()
        drctl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, context)
        drctl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        drctl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        drctl_easy_setopt_data_cb(easy, CURLOPT_WRITEFUNCTION) { pointer, size, count, user in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            return transfer.receiveBody(pointer, size * count)
        }
        drctl_easy_setopt_data_cb(easy, CURLOPT_HEADERFUNCTION) { pointer, size, count, user in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            return transfer.receiveHeader(pointer, size * count)
        }
        drctl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func receiveBody(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let pointer else { return length }
        if responseBody.count + length > maximumResponseBytes {
            exceededLimit = true
            return 0   // makes curl abort with CURLE_WRITE_ERROR
        }
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
        return length
    }

    private func receiveHeader(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let pointer else { return length }
        let line = pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        if line.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue or through a proxy's CONNECT): start over.
            responseHeaders = HTTPHeaders()
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...]).trimmed(of: " \t\r\n")
            responseHeaders.add(name, value)
        }
        return length
    }

    /// Called on the loop thread when curl is done with the transfer.
    func complete(code: CURLcode) {
        guard code == CURLE_OK else {
            finish(.failure(error(for: code)))
            return
        }
        var status = 0
        drctl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        drctl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        finish(.success(HTTPResponse(status: status, headers: responseHeaders, body: responseBody, newConnections: connects)))
    }

    func requestCancellation() {
        lock.lock()
        cancellationRequested = true
        lock.unlock()
    }

    var isCancellationRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancellationRequested
    }

    func finish(_ result: Result<HTTPResponse, any Error>) {
        lock.lock()
        let alreadyFinished = finished
        finished = true
        let continuation = self.continuation
        self.continuation = nil
        lock.unlock()
        guard !alreadyFinished else { return }
        continuation?.resume(with: result)
    }

    private func error(for code: CURLcode) -> TransportError {
        let buffered = String(cString: errorBuffer)
        let detail = buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered
        let kind: TransportError.Kind
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST: kind = .resolve
        case CURLE_COULDNT_RESOLVE_PROXY: kind = .proxy
        case CURLE_COULDNT_CONNECT: kind = .connect
        case CURLE_OPERATION_TIMEDOUT:
            // A request that went out was connected, whatever CONNECT_TIME says: curl reports 0
            // for a connection reused from the cache.
            var requestBytes = 0
            drctl_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &requestBytes)
            var connectTime = 0.0
            drctl_easy_getinfo_double(easy, CURLINFO_CONNECT_TIME, &connectTime)
            kind = requestBytes == 0 && connectTime == 0 ? .connectTimeout : .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_ENGINE_INITFAILED:
            kind = .tls
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            kind = .reset
        case CURLE_WRITE_ERROR where exceededLimit, CURLE_FILESIZE_EXCEEDED:
            kind = .responseTooLarge
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            kind = .invalidRequest
        default:
            kind = .other
        }
        // curl's messages may quote the proxy URL; keep only what cannot hold a secret.
        return TransportError(kind: kind, url: url, detail: RedactedURL.scrub(detail))
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
