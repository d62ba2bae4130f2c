import DRCore

/// Every AWS runbook action, bound to one client (which resolves the endpoint per region).
public enum AWSActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        RDSActions.all(client: client) + S3Actions.all(client: client) + TrafficActions.all(client: client)
            + ScalingActions.all(client: client) + SecretsActions.all(client: client)
    }
}

extension Dictionary where Key == String, Value == RunValue {
    /// An argument for `describe` (no validation there: it only prints): `fallback` when absent or null.
    func argumentText(_ key: String, _ fallback: String = "?") -> String {
        guard let value = self[key], value != .null else { return fallback }
        return value.description
    }
}
