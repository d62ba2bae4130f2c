import DRCore
import Foundation

/// The signed JWT a service account presents to the OAuth2 token endpoint (RFC 7523 §2.1, the
/// "JWT bearer" grant; https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests).
/// Built as google-auth builds it (`service_account._make_authorization_grant_assertion`,
/// `jwt.encode`): header `{"typ","alg","kid"}`, claims `{"iat","exp","iss","aud","scope"}`, one hour.
/// Pure: the clock and key come in, the text goes out.
public enum ServiceAccountAssertion {
    /// google-auth `_DEFAULT_TOKEN_LIFETIME_SECS`; Google refuses assertions that live longer.
    public static let lifetime: TimeInterval = 3600

    /// - Parameter audience: the key file's `token_uri`. google-auth 2.62 writes Google's constant
    ///   `https://oauth2.googleapis.com/token` whatever the file says; for Google's own key files the
    ///   two are the same, and a stand-in or private token endpoint checks its own URI (RFC 7523 §3:
    ///   the audience identifies the authorization server).
    public static func make(clientEmail: String, keyId: String?, signer: RSASigner, scopes: [String],
                            audience: String, now: Date) throws -> String {
        var header = [("typ", JSONText.string("JWT")), ("alg", JSONText.string("RS256"))]
        if let keyId { header.append(("kid", JSONText.string(keyId))) }
        let issuedAt = Int(now.timeIntervalSince1970)
        let claims = [
            ("iat", String(issuedAt)),
            ("exp", String(issuedAt + Int(lifetime))),
            ("iss", JSONText.string(clientEmail)),
            ("aud", JSONText.string(audience)),
            ("scope", JSONText.string(scopes.joined(separator: " "))),
        ]
        let signingInput = Base64URL.encode(Array(JSONText.object(header).utf8)) + "." + Base64URL.encode(Array(JSONText.object(claims).utf8))
        let signature = try signer.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// Unpadded base64url (RFC 7515 §2).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}

/// JSON text with members in the order given (JSONSerialization does not keep order), in
/// Python's `json.dumps` spacing (`", "` and `": "`), so drctl's assertion reads as google-auth's.
enum JSONText {
    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { string($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }

    static func string(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value > 0x7E:
                // json.dumps escapes every non-ASCII character (ensure_ascii), in UTF-16 units.
                for unit in String(scalar).utf16 { result += String(format: "\\u%04x", unit) }
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
