import DRCore

/// Azure (PostgreSQL Flexible Server, SQL failover groups, Blob, DNS). Its actions arrive with the
/// Azure issue.
public enum AzureProvider {
    public static let name = "azure"
}
