import Foundation

extension DrillDeployment {
    // MARK: ECS Fargate + EventBridge Scheduler

    /// Input for `aws scheduler create-schedule --cli-input-json file://…`: an EventBridge
    /// Scheduler schedule that runs the drctl task definition on Fargate. EventBridge has its
    /// own cron dialect (six fields, `?` in one day field), converted here.
    /// https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
    public func ecs() throws -> String {
        let expression = try schedule.eventBridgeExpression()
        let document: [String: Any] = [
            "Name": "drctl-drill-\(planName)",
            "Description": "drctl drill run for plan \(planName) (\(schedule.expression) UTC)",
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": ["Mode": "OFF"],
            "State": "ENABLED",
            "Target": [
                "Arn": "arn:aws:ecs:\(drRegion):ACCOUNT_ID:cluster/drctl",
                "RoleArn": "arn:aws:iam::ACCOUNT_ID:role/drctl-drill-scheduler",
                // A failed drill is not retried: its teardown already ran, the next schedule tries again.
                "RetryPolicy": ["MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 3600],
                "EcsParameters": [
                    "TaskDefinitionArn": "arn:aws:ecs:\(drRegion):ACCOUNT_ID:task-definition/drctl-drill-\(planName)",
                    "TaskCount": 1,
                    "LaunchType": "FARGATE",
                    "PlatformVersion": "LATEST",
                    "NetworkConfiguration": ["awsvpcConfiguration": [
                        "Subnets": ["SUBNET_ID"], "SecurityGroups": ["SECURITY_GROUP_ID"], "AssignPublicIp": "DISABLED",
                    ]],
                    "Tags": [["drctl:plan": planName]],
                ],
            ],
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// How to use `ecs()`; for stderr, so that stdout stays pure JSON.
    public func ecsNotes() throws -> String {
        """
        EventBridge Scheduler → ECS Fargate for plan '\(planName)': save stdout as schedule.json, fill in ACCOUNT_ID,
        SUBNET_ID and SECURITY_GROUP_ID, then: aws scheduler create-schedule --cli-input-json file://schedule.json
        The task definition it starts, with the secrets the drill reads: drctl drill schedule --print ecs-task (for aws ecs register-task-definition).
        Terraform for the task definition, the roles and this schedule: deploy/terraform (schedule_expression = "\(try schedule.eventBridgeExpression())").

        """
    }

    /// Input for `aws ecs register-task-definition --cli-input-json file://…`: the Fargate task the
    /// schedule starts (as deploy/terraform/ecs.tf writes it), with every URL the drill reads
    /// as an ECS `secrets` entry — the state URL from its own secret, the drill's URLs as keys of
    /// the JSON secret `drillSecretName` (`ARN:KEY::`), never as plain environment values.
    /// ECS has no run-time limit for a task: the drill's own step timeouts (max_runtime) bound it.
    /// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    public func ecsTaskDefinition() throws -> String {
        // Secrets Manager appends a random six-character suffix to a secret's name in its ARN.
        let secretARN = { (name: String) in "arn:aws:secretsmanager:\(drRegion):ACCOUNT_ID:secret:\(name)-SUFFIX" }
        let secrets: [[String: String]] = [["name": "DRCTL_STATE_URL", "valueFrom": secretARN("drctl-state")]]
            + urlEnvironmentVariables.map { ["name": $0, "valueFrom": "\(secretARN(drillSecretName)):\($0)::"] }
        let family = "drctl-drill-\(planName)"
        let container: [String: Any] = [
            "name": "drctl", "image": image, "essential": true, "user": "10001:10001", "readonlyRootFilesystem": true,
            "command": ["drill", "run", "--plan", "/etc/drctl/drplan.yaml", "--yes", "--output", "json"],
            "environment": [["name": "AWS_REGION", "value": drRegion], ["name": "HOME", "value": "/tmp"]],
            "secrets": secrets,
            "mountPoints": [["sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": false]],
            "logConfiguration": ["logDriver": "awslogs", "options": [
                "awslogs-group": "/drctl/drill/\(planName)", "awslogs-region": drRegion, "awslogs-stream-prefix": "drill",
            ]],
        ]
        let document: [String: Any] = [
            "family": family,
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc",
            "cpu": "512",
            "memory": "1024",
            "runtimePlatform": ["operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"],
            "taskRoleArn": "arn:aws:iam::ACCOUNT_ID:role/\(family)",
            // The execution role reads the secrets (secretsmanager:GetSecretValue on both).
            "executionRoleArn": "arn:aws:iam::ACCOUNT_ID:role/\(family)-execution",
            "volumes": [["name": "scratch"]],
            "containerDefinitions": [container],
            "tags": [["key": "drctl:plan", "value": planName]],
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// How to use `ecsTaskDefinition()`; for stderr, so that stdout stays pure JSON.
    public func ecsTaskNotes() -> String {
        var notes = "ECS task definition for plan '\(planName)': save stdout as task.json, fill in ACCOUNT_ID and each secret's SUFFIX, then:\n"
            + "aws ecs register-task-definition --cli-input-json file://task.json\n"
            + "DRCTL_STATE_URL comes from the Secrets Manager secret drctl-state (the URL as its value).\n"
        if !urlEnvironmentVariables.isEmpty {
            notes += "The drill's database URLs come from the JSON secret \(drillSecretName), one key per variable: "
                + urlEnvironmentVariables.joined(separator: ", ") + ".\n"
        }
        return notes
    }
}
