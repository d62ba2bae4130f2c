import AWSProvider
import ArgumentParser
import DRCore
import GCPProvider

/// The one place where errors become exit codes and short, actionable messages. Every error
/// type it reads has a description that is safe to print (no keys, tokens or passwords).
struct ErrorReport {
    let status: ExitStatus
    let message: String
    let hint: String?

    /// Nil for errors drctl does not own (ArgumentParser's), which keep their own rendering.
    init?(recognizing error: any Error) {
        switch error {
        case let error as AWSServiceError:
            switch error.category {
            case .authentication, .clockSkew:
                (status, message, hint) = (.authenticationFailed, error.description,
                                           "check the access key and secret (or the profile), and that this machine's clock is right")
            case .accessDenied:
                (status, message, hint) = (.authenticationFailed, error.description,
                                           "the credentials work but lack the permission; `drctl actions` lists the permissions each action needs")
            default:
                (status, message, hint) = (.cloudError, error.description, nil)
            }
        case let error as CredentialError:
            switch error.kind {
            case .malformedFile, .invalidConfiguration:
                (status, message, hint) = (.invalidConfiguration, "credentials: \(error)", nil)
            default:
                (status, message, hint) = (.authenticationFailed, "no usable AWS credentials: \(error)",
                                           "set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
            }
        case let error as GoogleAuthError:
            switch error.kind {
            case .malformedFile, .invalidConfiguration:
                (status, message, hint) = (.invalidConfiguration, "Google credentials: \(error)", nil)
            case .unavailable, .invalidResponse:
                (status, message, hint) = (.cloudError, "Google credentials: \(error)", nil)
            case .notFound, .rejected:
                (status, message, hint) = (.authenticationFailed, "no usable Google credentials: \(error)",
                                           error.kind == .notFound ? "set GOOGLE_APPLICATION_CREDENTIALS to a key file, or run `gcloud auth application-default login`" : nil)
            }
        case let error as GCPServiceError:
            switch error.category {
            case .authentication:
                (status, message, hint) = (.authenticationFailed, error.description, "Google refused the token even after a fresh one: check the credentials (`drctl whoami --cloud gcp`)")
            case .permissionDenied:
                (status, message, hint) = (.authenticationFailed, error.description, "the credentials work but lack the permission, or the API is not enabled for the project")
            default:
                (status, message, hint) = (.cloudError, error.description, nil)
            }
        case let error as GCPResponseError:
            (status, message, hint) = (.cloudError, error.description, nil)
        case let error as GCPPlanResourceProblem:
            switch error.kind {
            case .permissionDenied:
                (status, message, hint) = (.authenticationFailed, error.description,
                                           "check the plan's gcp.project, and that these credentials hold a role there (`drctl whoami --cloud gcp`)")
            case .notFound:
                (status, message, hint) = (.cloudError, error.description, "check the instance name in the plan's gcp: section against the project")
            case .cloud:
                (status, message, hint) = (.cloudError, error.description, nil)
            }
        case let error as GCPProjectMissing:
            (status, message, hint) = (.invalidConfiguration, error.description, nil)
        case let error as ProviderCredentialsMissing:
            (status, message, hint) = (.authenticationFailed, error.description,
                                       "export the variables the plan names (they hold connection URLs; the plan never does), then run the command again")
        case let error as ConfigurationError:
            (status, message, hint) = (.invalidConfiguration, "configuration: \(error)",
                                       error.kind == .missingRegion ? "pass --region or set AWS_REGION" : nil)
        case let error as TransportError:
            (status, message, hint) = (.cloudError, error.description,
                                       error.kind == .tls ? "TLS verification is always on; if a proxy intercepts TLS, set AWS_CA_BUNDLE (or ca_bundle in the AWS profile) to a PEM file with its CA" : nil)
        case let error as AWSResponseError:
            (status, message, hint) = (.cloudError, error.description, nil)
        case let error as MoveComposer.Problem:
            (status, message, hint) = (.invalidRunbook, error.description, nil)
        case let error as RunbookValidationError:
            (status, message, hint) = (.invalidRunbook, "invalid runbook or plan:\n\(error)", nil)
        case let error as LeaseHeldError:
            (status, message, hint) = (.lockHeld, error.description, "wait for that run, or `drctl runs` to see it")
        case let error as StateStoreError:
            // The store is local configuration drctl depends on: an unreachable, read-only, newer
            // or damaged store is exit 10 with what to do, never an internal error. Only a broken
            // invariant (a duplicate or vanished run) is one.
            switch error.kind {
            case .unavailable:
                (status, message, hint) = (.invalidConfiguration, error.description,
                                           "the state store stayed unreachable (raise --state-retry for longer outages); once it is back, `drctl resume RUN` re-observes what was in doubt")
            case .readOnly:
                (status, message, hint) = (.invalidConfiguration, error.description,
                                           "point --state (or DRCTL_STATE_URL) at a store that takes writes: the PostgreSQL primary, or a SQLite file this user can write; `drctl resume RUN` then continues a run this stopped")
            case .open, .schema, .corrupt, .query:
                (status, message, hint) = (.invalidConfiguration, error.description, nil)
            case .notFound, .conflict:
                (status, message, hint) = (.internalError, error.description, nil)
            }
        case let error as PostgresError:
            switch error.kind {
            case .invalidTarget: (status, message, hint) = (.invalidConfiguration, error.description, "check the postgres:// URL or the conninfo (key=value pairs; quote values with spaces)")
            case .authenticationFailed: (status, message, hint) = (.authenticationFailed, error.description, "check the user and its password (URL, PGPASSWORD or PGPASSFILE)")
            default: (status, message, hint) = (.cloudError, error.description, nil)
            }
        case let error as ActionError:
            (status, message, hint) = (error.kind == .permanent ? .runFailed : .cloudError, error.description, nil)
        case let error as PaginationError:
            (status, message, hint) = (.cloudError, error.description, nil)
        default:
            return nil
        }
    }
}
