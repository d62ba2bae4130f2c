import Foundation
import GCPProvider

/// Google credentials files (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file): any bytes give a
/// credentials value or a located `malformedFile` error naming the file — never a crash — and the
/// value of a secret field (private key, client secret, refresh token) never reaches a message:
/// the same document with those values replaced by markers must give an error without a marker
/// (checked that way because a fuzzed secret may legitimately equal words of the message).
enum GCPKeyFileFuzzTarget {
    static let secretFields: Set<String> = ["private_key", "client_secret", "refresh_token"]
    static let marker = "SECRET-MARKER"

    static let target = FuzzTarget(name: "gcp-key-file") { bytes in
        check(Data(bytes))
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let marked = markSecrets(object),
              let data = try? JSONSerialization.data(withJSONObject: marked) else { return }
        if let message = check(data) {
            require(!message.contains(marker), "error \(String(reflecting: message)) quotes a secret field")
        }
    }

    /// Parses; returns the error's description (nil when accepted).
    @discardableResult
    static func check(_ data: Data) -> String? {
        do {
            let file = try GoogleCredentialFile.parse(data, path: "fuzz.json")
            require(!file.typeName.isEmpty, "parsed a file without a type")
            return nil
        } catch let error as GoogleAuthError {
            require(error.kind == .malformedFile, "error of kind \(error.kind)")
            require(error.description.hasPrefix("fuzz.json"), "error \(String(reflecting: error.description)) does not name the file")
            return error.description
        } catch {
            require(false, "untyped error \(type(of: error))")
            return nil
        }
    }

    /// The document with every string value of a secret field replaced by a marker; nil if it has none.
    static func markSecrets(_ value: Any) -> Any? {
        var found = false
        func mark(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                var copy: [String: Any] = [:]
                for (key, item) in object {
                    if secretFields.contains(key), item is String {
                        found = true
                        copy[key] = "\(marker)-\(key)"
                    } else {
                        copy[key] = mark(item)
                    }
                }
                return copy
            }
            if let array = value as? [Any] { return array.map(mark) }
            return value
        }
        let marked = mark(value)
        return found ? marked : nil
    }
}
