import DRCore

/// Google Cloud (Cloud SQL Admin, GCS, Cloud DNS). Its actions arrive with the GCP issue; the
/// RS256 signer it needs for service-account JWTs is `DRCore.RSASigner`.
public enum GCPProvider {
    public static let name = "gcp"
}
