/// Tries providers in order and sticks with the first that yields credentials.
///
/// A provider that is simply not configured here throws `CredentialError` of kind `notFound` and
/// the chain moves on. Any other failure stops the chain: a profile whose credential_process
/// fails must not silently give way to, say, the instance role of another account.
/// When every provider says `notFound`, the error lists each one and why.
public actor CredentialChain: CredentialProvider {
    private let providers: [any CredentialProvider]
    private var chosen: (any CredentialProvider)?

    public init(_ providers: [any CredentialProvider]) {
        self.providers = providers
    }

    public func resolve() async throws -> ResolvedCredentials {
        if let chosen { return try await chosen.resolve() }
        var attempts: [CredentialError] = []
        for provider in providers {
            do {
                let resolved = try await provider.resolve()
                chosen = provider
                return resolved
            } catch let error as CredentialError where error.kind == .notFound {
                attempts.append(error)
            }
        }
        throw CredentialError(kind: .notFound, provider: "credential chain",
                              message: "no AWS credentials found; tried:", attempts: attempts)
    }
}
