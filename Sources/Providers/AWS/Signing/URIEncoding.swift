/// Percent-encoding as SigV4 defines it: every byte except the unreserved characters
/// `A-Z a-z 0-9 - _ . ~` becomes `%XY` with upper-case hex (RFC 3986 §2.3).
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
public enum URIEncoding {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            || c == 0x2D || c == 0x5F || c == 0x2E || c == 0x7E
    }

    /// Encodes `text`, leaving `/` alone when `keepSlash` and existing `%XY` escapes alone when
    /// `keepEscapes` (S3 paths are encoded once, so an escape already there must not be doubled).
    public static func encode<S: StringProtocol>(_ text: S, keepSlash: Bool = false, keepEscapes: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count + 8)
        append(text.utf8, to: &out, keepSlash: keepSlash, keepEscapes: keepEscapes)
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always)
    static func append<C: Collection>(_ bytes: C, to out: inout [UInt8], keepSlash: Bool, keepEscapes: Bool) where C.Element == UInt8 {
        for c in bytes {
            if isUnreserved(c) || (keepSlash && c == 0x2F) || (keepEscapes && c == 0x25) {
                out.append(c)
            } else {
                out.append(0x25)
                out.append(hexDigits[Int(c >> 4)])
                out.append(hexDigits[Int(c & 0x0F)])
            }
        }
    }

    /// Decodes `%XY` escapes; `+` stays a plus (SigV4 query strings are not form encoding).
    public static func decode<S: StringProtocol>(_ text: S) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(0x25) else { return String(text) }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            if utf8[i] == 0x25, i + 2 < utf8.count, let h = hexValue(utf8[i + 1]), let l = hexValue(utf8[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
