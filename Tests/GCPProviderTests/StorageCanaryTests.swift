import DRCore
import Foundation
import Testing
@testable import GCPProvider

extension GCPStandInSuites {
    /// `gcp.storage.canary` against gcp-storage-emulator (`DRCTL_TESTBED_GCS_URL`, JSON API): the
    /// test plays the copy (a transfer job) — it reads the canary from the source bucket and writes
    /// it to the destination after a delay — and the action must time that arrival.
    @Suite struct StorageCanaryTests {
        struct GCS {
            let url: String
            let transport = CurlTransport(configuration: .init(proxy: ProxySettings()))

            @discardableResult
            func send(_ method: String, _ path: String, _ body: String? = nil, contentType: String = "application/json") async throws -> HTTPResponse {
                try await transport.send(HTTPRequest(method: method, url: url + path, headers: body == nil ? [:] : ["Content-Type": contentType],
                                                     body: Array((body ?? "").utf8)))
            }

            func bucket(_ name: String) async throws {
                #expect(try await send("POST", "/storage/v1/b?project=drctl-dr", #"{"name": "\#(name)"}"#).status == 200)
            }

            func put(_ bucket: String, _ key: String, _ text: String) async throws {
                let name = key.addingPercentEncoding(withAllowedCharacters: GCPPath.unreserved)!
                #expect(try await send("POST", "/upload/storage/v1/b/\(bucket)/o?uploadType=media&name=\(name)", text, contentType: "text/plain").status == 200)
            }

            /// The object's bytes, nil while it is not there.
            func get(_ bucket: String, _ key: String) async throws -> String? {
                let response = try await send("GET", "/storage/v1/b/\(bucket)/o/\(GCPPath.segment(key))?alt=media")
                return response.status == 200 ? String(decoding: response.body, as: UTF8.self) : nil
            }
        }

        func harness() async throws -> (GCPActionHarness, GCS) {
            let url = try #require(ProcessInfo.processInfo.environment["DRCTL_TESTBED_GCS_URL"], "gcp-storage-emulator is not running")
            return (try await GCPActionHarness(storageURL: url), GCS(url: url))
        }

        /// Copies gs://source/key to gs://destination/key `delay` seconds after it appears.
        func copy(_ gcs: GCS, _ source: String, _ destination: String, _ key: String, after delay: Double) -> Task<Void, any Error> {
            Task {
                var text: String?
                for _ in 0..<400 where text == nil {
                    text = try await gcs.get(source, key)
                    if text == nil { try await Task.sleep(for: .milliseconds(25)) }
                }
                try await Task.sleep(for: .seconds(delay))
                try await gcs.put(destination, key, try #require(text))
            }
        }

        @Test func timesTheCanarysArrivalInTheDestinationBucketNotAnOlderObjectOfTheSameName() async throws {
            let (h, gcs) = try await harness()
            let source = h.name("docs-src"), destination = h.name("docs-dst")
            try await gcs.bucket(source)
            try await gcs.bucket(destination)
            let invocation = h.invocation(["bucket": .string(source), "destination_bucket": .string(destination)])
            let key = StorageCanaryAction.key(prefix: StorageCanaryAction.defaultPrefix, token: invocation.idempotencyToken)
            // What an earlier copy left under the same name: not this canary's arrival.
            try await gcs.put(destination, key, "an older canary\n")
            let copying = copy(gcs, source, destination, key, after: 1.5)
            let outputs = try await h.perform("gcp.storage.canary", invocation)
            try await copying.value
            let latency = try #require(outputs["latency_seconds"]?.secondsValue, "\(outputs)")
            #expect(latency >= 1.4 && latency < 6, "\(outputs)")
            #expect(outputs["key"] == .string(key) && outputs["destination_generation"]?.stringValue != nil, "\(outputs)")
            #expect(try await gcs.get(destination, key)?.hasPrefix("drctl copy canary") == true)
        }

        @Test func aCopyThatNeverArrivesTimesOut() async throws {
            let (h, gcs) = try await harness()
            let source = h.name("docs-src"), destination = h.name("docs-dst")
            try await gcs.bucket(source)
            try await gcs.bucket(destination)
            let invocation = ActionInvocation(runId: "run-\(h.tag)", stepId: "canary", attempt: 1,
                                              arguments: ["bucket": .string(source), "destination_bucket": .string(destination)],
                                              firstStartedAt: Date(), deadline: Date().addingTimeInterval(2), isResume: false,
                                              services: ActionServices(clock: GCPActionHarness.FastClock(), messages: { _ in }))
            let error = await #expect(throws: ActionError.self) { try await h.perform("gcp.storage.canary", invocation) }
            #expect(error?.kind == .timeout, "\(String(describing: error))")
            let same = await #expect(throws: ActionError.self) {
                try await h.perform("gcp.storage.canary", ["bucket": .string(source), "destination_bucket": .string(source)])
            }
            #expect(same?.message.contains("destination_bucket") == true)
        }
    }
}
