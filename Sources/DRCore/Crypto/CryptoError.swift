import COpenSSL

/// A failure inside OpenSSL. Its description names the operation and OpenSSL's reason string,
/// never key material.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let detail: String

    public var description: String {
        detail.isEmpty ? "\(operation) failed" : "\(operation) failed: \(detail)"
    }
}

enum OpenSSLErrorQueue {
    /// Empties OpenSSL's thread-local error queue and returns its reasons joined.
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(nulTerminated: buffer))
        }
        return reasons.joined(separator: "; ")
    }
}

extension String {
    /// Text from a NUL-terminated C buffer (OpenSSL, curl error buffers).
    public init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
