import DRCore
import Foundation
import Testing
@testable import AWSProvider


extension TestBedSerial {
    /// The JSON and REST-JSON protocols and pagination, live against moto with SigV4 verification.
    @Suite
    struct LiveProtocolTests {
        struct ClusterList: Decodable { let clusterArns: [String]? ; let clusters: [String]? }

        @Test func jsonProtocolCallIsSignedAndDecoded() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let client = bed.client()
            let name = TestBed.uniqueName("drctl-dr")
            _ = try await client.send(try JSONProtocol.request(operation: "CreateCluster", service: .ecs, input: ["clusterName": name]),
                                      service: .ecs, region: "us-west-2")
            let response = try await client.send(try JSONProtocol.request(operation: "ListClusters", service: .ecs, input: EmptyInput()),
                                                 service: .ecs, region: "us-west-2")
            let list = try AWSResponseDecoding.json(ClusterList.self, from: response, operation: "ListClusters")
            #expect(list.clusterArns?.contains { $0.hasSuffix("cluster/\(name)") } == true)
            #expect(try await bed.requestCount(service: "ecs", operation: "ListClusters") == 1)
        }

        @Test func jsonProtocolErrorIsDecodedWithItsCode() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let error = await #expect(throws: AWSServiceError.self) {
                _ = try await bed.client().send(
                    try JSONProtocol.request(operation: "DescribeSecret", service: .secretsManager, input: ["SecretId": "drctl/missing"]),
                    service: .secretsManager, region: "us-west-2")
            }
            #expect(error?.code == "ResourceNotFoundException")
            #expect(error?.category == .notFound)
        }

        @Test func restJSONGetWithoutBodyIsSigned() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let response = try await bed.client().send(
                try RESTJSONProtocol.request(operation: "ListClusters", method: "GET", path: "/clusters", input: EmptyInput?.none),
                service: .eks, region: "us-west-2")
            let list = try AWSResponseDecoding.json(ClusterList.self, from: response, operation: "ListClusters")
            #expect(list.clusters != nil)
        }

        @Test func jsonThrottlingIsRetried() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([["service": "ecs", "operation": "ListClusters", "fault": "throttle", "times": 1]])
            _ = try await bed.client().send(try JSONProtocol.request(operation: "ListClusters", service: .ecs, input: EmptyInput()),
                                            service: .ecs, region: "us-west-2")
            #expect(try await bed.requestCount(service: "ecs", operation: "ListClusters") == 2)
        }

        @Test func route53PaginationFollowsMarkersToTheEnd() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let client = bed.client()
            let prefix = TestBed.uniqueName("page")
            for index in 0..<5 {
                let name = "\(prefix)-\(index).example.org."
                _ = try await client.send(RESTXMLProtocol.request(
                    operation: "CreateHostedZone", method: "POST", path: "/2013-04-01/hostedzone",
                    body: XMLNode(name: "CreateHostedZoneRequest", attributes: ["xmlns": "https://route53.amazonaws.com/doc/2013-04-01/"],
                                  children: [.leaf("Name", name), .leaf("CallerReference", name)])), service: .route53, region: "us-east-1")
            }
            let zones = try await Route53Client(client: client).listHostedZones(pageSize: 2)
            #expect(zones.filter { $0.name.hasPrefix(prefix) }.count == 5)
            #expect(Set(zones.map(\.id)).count == zones.count)
            #expect(try await bed.requestCount(service: "route53", operation: "ListHostedZones") >= 3)
        }

        @Test func rdsPaginationFollowsMarkers() async throws {
            let bed = try TestBed.require()
            try await bed.setFaults([])
            let client = bed.client()
            let prefix = TestBed.uniqueName("pg")
            for index in 0..<25 {
                var parameters = QueryParameters()
                parameters.set("DBInstanceIdentifier", "\(prefix)-\(index)")
                parameters.set("DBInstanceClass", "db.t3.micro")
                parameters.set("Engine", "postgres")
                parameters.set("MasterUsername", "drctl")
                parameters.set("MasterUserPassword", "not-a-real-password-1")
                parameters.set("AllocatedStorage", 20)
                _ = try await client.send(QueryProtocol.request(action: "CreateDBInstance", version: "2014-10-31", parameters: parameters),
                                          service: .rds, region: "us-east-1")
            }
            let instances = try await RDSClient(client: client).describeDBInstances(region: "us-east-1", pageSize: 20)
            #expect(instances.filter { $0.identifier.hasPrefix(prefix) }.count == 25)
            #expect(try await bed.requestCount(service: "rds", operation: "DescribeDBInstances") >= 2)
        }

        @Test func repeatedPageTokenIsRefused() async throws {
            var calls = 0
            await #expect(throws: PaginationError.self) {
                _ = try await collectPages { (_: String?) -> (items: [Int], next: String?) in
                    calls += 1
                    return ([calls], "same-token")
                }
            }
            #expect(calls == 2)
        }
    }
}
