import DRCore
import Foundation
import Testing
@testable import AWSProvider


extension TestBedSerial {
    /// The standard retry mode against the fault-injecting proxy: what is retried, how often, and
    /// what is not.
    @Suite
    struct FaultProxyRetryTests {
        @Test func twoThrottlesThenSuccessIsRetriedAndSucceeds() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([["service": "sts", "operation": "GetCallerIdentity", "fault": "throttle", "times": 2]])
            let delays = DelayRecorder()
            let identity = try await STSClient(client: bed.client(delays: delays)).getCallerIdentity(region: "us-east-1")
            #expect(identity.account == bed.accountId)
            #expect(try await bed.requestCount(service: "sts", operation: "GetCallerIdentity") == 3)
            #expect(await delays.delays.count == 2)
        }

        @Test func s3SlowDownIsRetried() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let client = bed.client()
            let s3 = S3Client(client: client)
            let bucket = "drctl-slowdown-\(UInt32.random(in: 0...UInt32.max))"
            try await s3.createBucket(bucket, region: "us-east-1")
            try await bed.setFaults([["service": "s3", "operation": "PutObject", "fault": "throttle", "times": 1]])
            try await s3.putObject(bucket: bucket, key: "k", body: Array("v".utf8), region: "us-east-1")
            #expect(try await bed.requestCount(service: "s3", operation: "PutObject") == 2)
        }

        @Test func throttlingOnEveryAttemptGivesUpAfterMaxAttempts() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([["service": "sts", "operation": "GetCallerIdentity", "fault": "throttle"]])
            let error = await #expect(throws: AWSServiceError.self) {
                try await STSClient(client: bed.client(maxAttempts: 3)).getCallerIdentity(region: "us-east-1")
            }
            #expect(error?.code == "Throttling")
            #expect(error?.category == .throttling)
            #expect(try await bed.requestCount(service: "sts", operation: "GetCallerIdentity") == 3)
        }

        @Test func aHangHitsTheTimeout() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([["service": "sts", "operation": "GetCallerIdentity", "fault": "hang"]])
            let client = bed.client(timeouts: HTTPTimeouts(connect: .seconds(2), total: .milliseconds(700)), maxAttempts: 2)
            let error = await #expect(throws: TransportError.self) {
                try await STSClient(client: client).getCallerIdentity(region: "us-east-1")
            }
            #expect(error?.kind == .timeout)
            #expect(try await bed.requestCount(service: "sts", operation: "GetCallerIdentity") == 2)
            try await bed.setFaults([])
        }

        @Test func aResetIsRetried() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([["service": "sts", "operation": "GetCallerIdentity", "fault": "reset", "times": 1]])
            let identity = try await STSClient(client: bed.client()).getCallerIdentity(region: "us-east-1")
            #expect(identity.arn == bed.userArn)
            #expect(try await bed.requestCount(service: "sts", operation: "GetCallerIdentity") == 2)
        }

        @Test func aServerErrorIsRetried() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([["service": "rds", "operation": "DescribeDBInstances", "fault": "error5xx", "status": 503, "times": 1]])
            _ = try await RDSClient(client: bed.client()).describeDBInstances(region: "us-west-2")
            #expect(try await bed.requestCount(service: "rds", operation: "DescribeDBInstances") == 2)
        }

        @Test func aValidationErrorIsNotRetried() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            var parameters = QueryParameters()
            parameters.set("DBInstanceIdentifier", "invalid_identifier_with_underscores!")
            parameters.set("DBInstanceClass", "db.t3.micro")
            parameters.set("Engine", "not-an-engine")
            let client = bed.client()
            let error = await #expect(throws: AWSServiceError.self) {
                _ = try await client.send(QueryProtocol.request(action: "CreateDBInstance", version: "2014-10-31", parameters: parameters),
                                          service: .rds, region: "us-west-2")
            }
            #expect(error?.isRetryable == false)
            #expect(error?.httpStatus == 400)
            #expect(try await bed.requestCount(service: "rds", operation: "CreateDBInstance") == 1)
        }

        @Test func theRetryQuotaStopsARetryStorm() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([["service": "sts", "operation": "GetCallerIdentity", "fault": "error5xx", "status": 500]])
            let client = bed.client(maxAttempts: 3)
            // 500 tokens at 5 per retry: 100 retries, then calls fail on their first attempt.
            var attempts = 0
            for _ in 0..<60 {
                _ = try? await STSClient(client: client).getCallerIdentity(region: "us-east-1")
            }
            attempts = try await bed.requestCount(service: "sts", operation: "GetCallerIdentity")
            #expect(client.retry.quota.available < RetryQuota.retryCost)
            #expect(attempts == 60 + 100)
            try await bed.setFaults([])
        }
    }
}
