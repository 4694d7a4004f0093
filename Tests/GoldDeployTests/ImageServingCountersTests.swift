import Testing

@testable import GoldDeploy

@Suite struct ImageServingCountersTests {
    @Test(arguments: [
        ("/chunks/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ImageServingCounters.Kind.chunk),
        ("/images/m1/3/manifest.json", .manifest),
        ("/images/m1", .manifest),
        ("/images/m1/current/disk0.raw", .disk),
    ])
    func kindOfAPath(_ path: String, _ kind: ImageServingCounters.Kind) {
        #expect(ImageServingCounters.Kind(path: path) == kind)
    }

    @Test func otherPathsAreNotImageRequests() {
        #expect(ImageServingCounters.Kind(path: "/boot/ipxe") == nil)
        #expect(ImageServingCounters.Kind(path: "/v1/machines") == nil)
    }

    @Test func bytesAndRequestsAddUpByKindAndShowAsPrometheusCounters() {
        let counters = ImageServingCounters()
        counters.request(.chunk)
        counters.sent(.chunk, bytes: 1 << 20)
        counters.request(.chunk)
        counters.sent(.chunk, bytes: 4096)
        counters.request(.manifest)
        counters.sent(.manifest, bytes: 812)
        let now = counters.snapshot()
        #expect(now[.chunk] == .init(requests: 2, bytes: (1 << 20) + 4096))
        #expect(now[.manifest] == .init(requests: 1, bytes: 812))
        #expect(now[.disk] == nil)
        let text = counters.prometheusText()
        #expect(text.contains("gold_deploy_image_bytes_sent_total{kind=\"chunk\"} 1052672\n"))
        #expect(text.contains("gold_deploy_image_bytes_sent_total{kind=\"disk\"} 0\n"))
        #expect(text.contains("gold_deploy_image_requests_total{kind=\"manifest\"} 1\n"))
        #expect(text.contains("# TYPE gold_deploy_image_bytes_sent_total counter"))
    }
}
