import DRCore

/// Every AWS runbook action, bound to one client (which resolves the endpoint per region).
public enum AWSActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        []
    }
}
