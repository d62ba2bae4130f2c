import Foundation

/// The two date forms SigV4 uses, in UTC: "20150830" and "20150830T123600Z".
struct AMZDate {
    let date: String
    let dateTime: String

    init(_ instant: Date) {
        var seconds = time_t(instant.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Written digit by digit: this runs for every signature.
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: 16)
        func put(_ value: Int, at offset: Int, width: Int) {
            var value = value
            for position in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, at: 0, width: 4)
        put(Int(parts.tm_mon) + 1, at: 4, width: 2)
        put(Int(parts.tm_mday), at: 6, width: 2)
        bytes[8] = UInt8(ascii: "T")
        put(Int(parts.tm_hour), at: 9, width: 2)
        put(Int(parts.tm_min), at: 11, width: 2)
        put(Int(parts.tm_sec), at: 13, width: 2)
        bytes[15] = UInt8(ascii: "Z")
        date = String(decoding: bytes[0..<8], as: UTF8.self)
        dateTime = String(decoding: bytes, as: UTF8.self)
    }
}
