import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A KafkaShareConsumer for the share-group process tests, run with the
 * Apache Kafka peer's jars. Arguments: bootstrap, group, topic, action,
 * idle milliseconds. Every record received is printed as
 * "rec PARTITION OFFSET DELIVERY_COUNT VALUE" and acknowledged explicitly:
 * accept, release, reject (values divisible by 10 are rejected, the rest
 * accepted) or hold (the first batch is never acknowledged and the
 * process waits to be killed). It prints "ready" after its first poll and
 * exits once no record came for the idle time after the last one, or for
 * five times the idle time when none came at all (the other members of
 * its group may have taken every record).
 */
public class ShareConsume {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], group = args[1], topic = args[2], action = args[3];
        long idleMs = Long.parseLong(args[4]);
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("client.id", "share-" + action + "-" + ProcessHandle.current().pid());
        props.put("share.acknowledgement.mode", "explicit");
        props.put("key.deserializer", StringDeserializer.class.getName());
        props.put("value.deserializer", StringDeserializer.class.getName());
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(props)) {
            c.subscribe(List.of(topic));
            boolean ready = false;
            boolean any = false;
            long last = System.currentTimeMillis();
            while (true) {
                ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(200));
                if (!ready) {
                    System.out.println("ready");
                    System.out.flush();
                    ready = true;
                }
                for (ConsumerRecord<String, String> r : recs) {
                    System.out.println("rec " + r.partition() + " " + r.offset() + " "
                        + r.deliveryCount().orElse((short) -1) + " " + r.value());
                    if (action.equals("hold")) {
                        continue;
                    }
                    c.acknowledge(r, typeFor(action, r.value()));
                }
                System.out.flush();
                if (!recs.isEmpty()) {
                    if (action.equals("hold")) {
                        System.out.println("holding");
                        System.out.flush();
                        Thread.sleep(Long.MAX_VALUE);
                    }
                    c.commitSync();
                    any = true;
                    last = System.currentTimeMillis();
                } else if (System.currentTimeMillis() - last > (any ? idleMs : 5 * idleMs)) {
                    break;
                }
            }
        }
        System.out.println("closed");
    }

    static AcknowledgeType typeFor(String action, String value) {
        switch (action) {
            case "release":
                return AcknowledgeType.RELEASE;
            case "reject":
                return Long.parseLong(value) % 10 == 0 ? AcknowledgeType.REJECT : AcknowledgeType.ACCEPT;
            default:
                return AcknowledgeType.ACCEPT;
        }
    }
}
