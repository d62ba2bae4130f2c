import Foundation
import GCPProvider

/// Google credentials files (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file): any bytes give a
/// credentials value or a located `malformedFile` error naming the file — never a crash, and never
/// the value of a secret field (private key, client secret, refresh token) in the message.
enum GCPKeyFileFuzzTarget {
    static let secretFields: Set<String> = ["private_key", "client_secret", "refresh_token"]

    static let target = FuzzTarget(name: "gcp-key-file") { bytes in
        do {
            let file = try GoogleCredentialFile.parse(Data(bytes), path: "fuzz.json")
            // An accepted file names its principal or its source, as `whoami` will show it.
            require(!file.typeName.isEmpty, "parsed a file without a type")
        } catch let error as GoogleAuthError {
            require(error.kind == .malformedFile, "error of kind \(error.kind)")
            require(error.description.hasPrefix("fuzz.json"), "error \(String(reflecting: error.description)) does not name the file")
            let object = try? JSONSerialization.jsonObject(with: Data(bytes))
            for secret in secrets(in: object) where secret.count >= 8 {
                require(!error.description.contains(secret), "error \(String(reflecting: error.description)) quotes a secret field")
            }
        } catch {
            require(false, "untyped error \(type(of: error))")
        }
    }

    static func secrets(in value: Any?) -> [String] {
        if let object = value as? [String: Any] {
            return object.flatMap { key, value -> [String] in
                if secretFields.contains(key), let text = value as? String { return [text] }
                return secrets(in: value)
            }
        }
        if let array = value as? [Any] { return array.flatMap { secrets(in: $0) } }
        return []
    }
}
