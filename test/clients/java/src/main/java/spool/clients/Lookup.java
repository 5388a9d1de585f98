package spool.clients;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** The lookup scenarios: offsets by timestamp, and a producer's metadata request for a missing topic. */
final class Lookup {
    private Lookup() { }

    static void offsets(Args a) {
        List<Map<String, Long>> out = new ArrayList<>();
        try (var c = Produce.consumer(Produce.consumerProps(a))) {
            TopicPartition tp = new TopicPartition(a.topic, 0);
            for (long ts : a.timestamps) {
                OffsetAndTimestamp o = c.offsetsForTimes(Map.of(tp, ts)).get(tp);
                Map<String, Long> line = new LinkedHashMap<>();
                line.put("ts", ts);
                // The Java client answers null where Kafka answers -1.
                line.put("offset", o == null ? -1 : o.offset());
                out.add(line);
            }
        }
        Rec.writeLines(a.out, out);
    }

    /** The producer asks for metadata allowing auto-creation, until the topic has partitions or time is up. */
    static void metadata(Args a) throws InterruptedException {
        Properties extra = new Properties();
        extra.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000);
        Map<String, Object> last = new LinkedHashMap<>();
        last.put("found", false);
        last.put("partitions", 0);
        var p = Produce.producer(a, extra);
        try {
            while (!a.expired()) {
                try {
                    List<PartitionInfo> parts = p.partitionsFor(a.topic);
                    if (parts != null && !parts.isEmpty()) {
                        last.put("found", true);
                        last.put("partitions", parts.size());
                        last.remove("error");
                        break;
                    }
                } catch (RuntimeException e) {
                    last.put("error", Fail.describe(e));
                }
                Thread.sleep(200);
            }
        } finally {
            // Nothing was sent; do not wait on the metadata requests still out.
            p.close(Duration.ZERO);
        }
        Rec.writeLines(a.out, List.of(last));
    }
}
