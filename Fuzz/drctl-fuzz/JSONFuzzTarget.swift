@testable import AWSProvider
@testable import DRCore
import Foundation

/// drctl's JSON readers:
/// - the journal's fast detail reader (`JournalDetailDecoder`) must agree with `JSONDecoder`
///   whenever it answers (it exists only to be faster), and read back what the store writes;
/// - the credential documents of credential_process, the container endpoint and IMDS: accepted
///   means both keys present; an error never quotes the document (it holds secret keys).
enum JSONFuzzTarget {
    static let target = FuzzTarget(name: "json") { bytes in
        checkJournalDetail(Data(bytes))
        checkCredentialDocument(Data(bytes))
    }

    static func checkJournalDetail(_ data: Data) {
        guard let fast = JournalDetailDecoder.decode([data])?.first else { return }
        let slow = try? RunValueJSON.makeDecoder().decode([String: RunValue].self, from: data)
        require(slow != nil, "the fast journal reader accepted JSON that JSONDecoder refuses: \(String(reflecting: text(Array(data))))")
        // Compared as the store's own encoding, which spells NaN the same way on both sides.
        let fastText = try? RunValueJSON.encode(fast), slowText = slow.flatMap { try? RunValueJSON.encode($0) }
        require(fastText == slowText, "the fast journal reader read \(fastText ?? "?"), JSONDecoder \(slowText ?? "?")")
        if let fastText {
            let again = JournalDetailDecoder.decode([Data(fastText.utf8)])?.first.flatMap { try? RunValueJSON.encode($0) }
            require(again == fastText, "the store's encoding \(fastText) reads back as \(again ?? "nothing")")
        }
    }

    static func checkCredentialDocument(_ data: Data) {
        do {
            let document = try CredentialDocument(data, provider: "fuzz", errorKind: .invalidResponse)
            do {
                let credentials = try document.credentials(tokenKey: "Token")
                require(!credentials.accessKeyId.isEmpty && !credentials.secretAccessKey.isEmpty, "credentials without a key")
            } catch {
                requireQuotesNothing("\(error)", from: data)
            }
        } catch {
            requireQuotesNothing("\(error)", from: data)
        }
    }

    /// No string value of the document long enough to be a key or token appears in the message.
    static func requireQuotesNothing(_ message: String, from data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return }
        var strings: [String] = []
        func collect(_ value: Any) {
            if let text = value as? String { strings.append(text) }
            else if let list = value as? [Any] { list.forEach(collect) }
            else if let map = value as? [String: Any] { map.values.forEach(collect) }   // values only: keys are field names the message may name
        }
        collect(object)
        for string in strings where string.count >= 12 {
            require(!message.contains(string), "credential error \(String(reflecting: message)) quotes the document")
        }
    }
}
