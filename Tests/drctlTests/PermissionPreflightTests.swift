import DRCore
import Foundation
import Testing

/// Issue 16: the preflight tells a move's missing permissions before acting, from IAM's policy
/// simulator (SimulatePrincipalPolicy; the test bed evaluates the principal's own policies), for
/// the calls the move's runbook will make — as warnings (a simulation can be wrong; it must not
/// stop an emergency move), and says so when it cannot simulate.
@Suite(.serialized)
struct PermissionPreflightTests {
    /// A user of the test bed's account with `policy` as its only policy, and its keys.
    func user(_ bed: DrillCommandTests.Bed, _ name: String, policy: String) throws -> [String: String] {
        let made = try bed.python(["-c", """
        import boto3, json, os
        iam = boto3.client('iam', region_name='us-east-1', endpoint_url=os.environ['DRCTL_TESTBED_MOTO_URL'],
                           aws_access_key_id=os.environ['DRCTL_TESTBED_ACCESS_KEY_ID'], aws_secret_access_key=os.environ['DRCTL_TESTBED_SECRET_ACCESS_KEY'])
        iam.create_user(UserName='\(name)')
        iam.put_user_policy(UserName='\(name)', PolicyName='only', PolicyDocument=json.dumps(\(policy)))
        key = iam.create_access_key(UserName='\(name)')['AccessKey']
        print(json.dumps({'AWS_ACCESS_KEY_ID': key['AccessKeyId'], 'AWS_SECRET_ACCESS_KEY': key['SecretAccessKey']}))
        """])
        #expect(made.status == 0, "\(made.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: String])
    }

    /// The drill suite's bed and plan, its database fenced by security group (RDS cannot stop a
    /// primary with read replicas: the stop fence would block the preflight).
    func makeBed() throws -> DrillCommandTests.Bed {
        let bed = try DrillCommandTests.Bed.make()
        try bed.setUp()
        let text = try String(contentsOfFile: bed.planPath, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
            guard line.contains("replicas: [ { region: us-west-2") else { return [String(line)] }
            let indent = String(line.prefix { $0 == " " })
            return [String(line), indent + "fence: security-group", indent + "fence_security_groups: [ sg-0isolate ]"]
        }
        try lines.joined(separator: "\n").write(toFile: bed.planPath, atomically: true, encoding: .utf8)
        return bed
    }

    func dryRun(_ bed: DrillCommandTests.Bed, _ keys: [String: String] = [:]) throws -> DrctlProcess.Result {
        try bed.drctl(["failover", "--plan", bed.planPath, "--to", "us-west-2", "--dry-run", "--state", bed.statePath], extra: keys)
    }

    @Test func aCallerWhoMayMakeEveryCallIsToldSo() throws {
        let bed = try makeBed()
        let result = try dryRun(bed)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("permissions (IAM policy simulator)") && result.stdout.contains("may make every call of this move"), "\(result.stdout)")
    }

    @Test func aDeniedPromotionIsNamedWithItsResourceAndStepBeforeAnythingIsDone() throws {
        let bed = try makeBed()
        let keys = try user(bed, "\(bed.prefix)-nopromote", policy: """
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                                                 {"Effect": "Deny", "Action": "rds:PromoteReadReplica", "Resource": "*"}]}
        """)
        let result = try dryRun(bed, keys)
        // A warning: the dry run (and a move) goes on; the operator reads it first.
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("would be denied 1 of"), "\(result.stdout)")
        #expect(result.stdout.contains("rds:PromoteReadReplica on arn:aws:rds:us-west-2:") && result.stdout.contains(":db:\(bed.prefix)-replica"),
                "\(result.stdout)")
        #expect(result.stdout.contains("(step promote-orders)"), "\(result.stdout)")
        #expect(!(result.stdout + result.stderr).contains(keys["AWS_SECRET_ACCESS_KEY"]!))
    }

    @Test func aCallerWhoMayNotSimulateIsToldTheCheckWasNotMade() throws {
        let bed = try makeBed()
        let keys = try user(bed, "\(bed.prefix)-nosim", policy: """
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                                                 {"Effect": "Deny", "Action": "iam:SimulatePrincipalPolicy", "Resource": "*"}]}
        """)
        let result = try dryRun(bed, keys)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("not simulated for") && result.stdout.contains("grant iam:SimulatePrincipalPolicy"), "\(result.stdout)")
    }
}
