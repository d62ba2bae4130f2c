import DRCore

/// Every AWS runbook action, bound to one client (which resolves the endpoint per region).
public enum AWSActions {
    public static func all(client: AWSClient) -> [any RunbookAction] {
        RDSActions.all(client: client) + S3Actions.all(client: client) + TrafficActions.all(client: client)
            + ScalingActions.all(client: client) + SecretsActions.all(client: client)
    }
}

