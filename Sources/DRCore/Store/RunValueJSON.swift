import Foundation

/// How stores write `RunValue` maps (run inputs, journal details) as JSON text: sorted keys,
/// non-finite doubles as strings. The SQLite and PostgreSQL stores write the same bytes.
enum RunValueJSON {
    static func encode(_ values: [String: RunValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(values), as: UTF8.self)
    }

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    /// Decodes many details: the fast reader first, else `JSONDecoder` one by one. Returns the
    /// index of the first undecodable detail as the failure.
    static func decodeDetails(_ details: [Data]) -> Result<[[String: RunValue]], UndecodableDetail> {
        if let decoded = JournalDetailDecoder.decode(details) { return .success(decoded) }
        let decoder = makeDecoder()
        var decoded: [[String: RunValue]] = []
        decoded.reserveCapacity(details.count)
        for (index, detail) in details.enumerated() {
            guard let value = try? decoder.decode([String: RunValue].self, from: detail) else {
                return .failure(UndecodableDetail(index: index))
            }
            decoded.append(value)
        }
        return .success(decoded)
    }

    struct UndecodableDetail: Error {
        let index: Int
    }
}
