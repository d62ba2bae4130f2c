import DRCore
import Foundation
import Testing
@testable import AWSProvider


extension TestBedSerial {
    /// Signed calls against moto with SigV4 verification on: if the signature were wrong in any
    /// detail, moto would answer SignatureDoesNotMatch.
    @Suite
    struct LiveAWSCallTests {
        @Test func getCallerIdentityReturnsTheTestBedUser() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let identity = try await STSClient(client: bed.client()).getCallerIdentity(region: "us-east-1")
            #expect(identity.account == bed.accountId)
            #expect(identity.arn == bed.userArn)
        }

        @Test func describeDBInstancesIsRegional() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let client = bed.client()
            let name = TestBed.uniqueName("drctl-live")
            var parameters = QueryParameters()
            parameters.set("DBInstanceIdentifier", name)
            parameters.set("DBInstanceClass", "db.t3.micro")
            parameters.set("Engine", "postgres")
            parameters.set("MasterUsername", "drctl")
            parameters.set("MasterUserPassword", "not-a-real-password-1")
            parameters.set("AllocatedStorage", 20)
            _ = try await client.send(QueryProtocol.request(action: "CreateDBInstance", version: "2014-10-31", parameters: parameters),
                                      service: .rds, region: "us-west-2")

            let rds = RDSClient(client: client)
            let west = try await rds.describeDBInstances(region: "us-west-2")
            let east = try await rds.describeDBInstances(region: "us-east-1")
            let created = try #require(west.first { $0.identifier == name })
            #expect(created.engine == "postgres")
            #expect(created.arn?.contains(":us-west-2:") == true)
            #expect(!east.contains { $0.identifier == name })

            let one = try await rds.describeDBInstances(region: "us-west-2", identifier: name)
            #expect(one.map(\.identifier) == [name])
        }

        @Test func describeDBInstanceThatDoesNotExistIsANotFoundError() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let error = await #expect(throws: AWSServiceError.self) {
                try await RDSClient(client: bed.client()).describeDBInstances(region: "us-west-2", identifier: "drctl-missing-db")
            }
            #expect(error?.code == "DBInstanceNotFound")
            #expect(error?.category == .notFound)
            #expect(error?.httpStatus == 404)
        }

        @Test(arguments: ["plain.txt", "with space.txt", "plus+sign", "tilde~name", "percent%20literal", "unicodé/ключ/日本",
                          "double//slash", "/leading-slash", "mixed ~+%/ é//x"])
        func putAndHeadObjectsWithAwkwardKeys(_ key: String) async throws {
            let bed = try TestBed.require()
            let client = bed.client()
            let s3 = S3Client(client: client)
            let bucket = "drctl-keys-\(UInt32.random(in: 0...UInt32.max))"
            try await s3.createBucket(bucket, region: "us-east-1")
            let body = Array("payload for \(key)".utf8)
            try await s3.putObject(bucket: bucket, key: key, body: body, region: "us-east-1", contentType: "text/plain",
                                   metadata: ["origin": "drctl"])
            let head = try await s3.headObject(bucket: bucket, key: key, region: "us-east-1")
            #expect(head.contentLength == body.count)
            #expect(head.metadata["origin"] == "drctl")
            let fetched = try await s3.getObject(bucket: bucket, key: key, region: "us-east-1")
            #expect(fetched.body == body)
        }

        @Test func headOfAMissingObjectIsNotFound() async throws {
            let bed = try TestBed.require()
            let s3 = S3Client(client: bed.client())
            let bucket = "drctl-missing-\(UInt32.random(in: 0...UInt32.max))"
            try await s3.createBucket(bucket, region: "us-east-1")
            let error = await #expect(throws: AWSServiceError.self) {
                try await s3.headObject(bucket: bucket, key: "nope", region: "us-east-1")
            }
            #expect(error?.httpStatus == 404)
            #expect(error?.category == .notFound)
        }

        @Test func listHostedZonesIsASignedGetWithoutBody() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let client = bed.client()
            let zoneName = "\(TestBed.uniqueName("drctl")).example.com."
            let create = RESTXMLProtocol.request(
                operation: "CreateHostedZone", method: "POST", path: "/2013-04-01/hostedzone",
                body: XMLNode(name: "CreateHostedZoneRequest", attributes: ["xmlns": "https://route53.amazonaws.com/doc/2013-04-01/"],
                              children: [.leaf("Name", zoneName), .leaf("CallerReference", zoneName)]))
            _ = try await client.send(create, service: .route53, region: "us-west-2")
            let zones = try await Route53Client(client: client).listHostedZones()
            #expect(zones.contains { $0.name == zoneName })
            #expect(try await bed.requestCount(service: "route53", operation: "ListHostedZones") >= 1)
        }

        @Test func wrongSecretIsAnAuthenticationError() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let wrong = AWSCredentials(accessKeyId: bed.accessKeyId, secretAccessKey: "wrong" + bed.secretAccessKey.dropFirst(5))
            let error = await #expect(throws: AWSServiceError.self) {
                try await STSClient(client: bed.client(credentials: wrong)).getCallerIdentity(region: "us-east-1")
            }
            #expect(error?.httpStatus == 403)
            #expect(error?.category == .clockSkew || error?.category == .authentication)
            #expect(error.map { !"\($0)".contains(bed.secretAccessKey) } == true)
        }
    }
}
