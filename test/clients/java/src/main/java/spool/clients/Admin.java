package spool.clients;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** The admin scenario: create a topic, see it described, delete it, see it gone. */
final class Admin {
    private Admin() { }

    static void run(Args a) throws Exception {
        var props = Runner.common(a);
        try (var adm = org.apache.kafka.clients.admin.Admin.create(props)) {
            // Creating a topic takes milliseconds; a step that takes seconds is
            // the failure to report, not a reason to wait out the scenario.
            await(adm.createTopics(List.of(new NewTopic(a.topic, a.partitions, (short) a.rf))).all(), "create topic");
            TopicDescription last = null;
            while (true) {
                try {
                    last = adm.describeTopics(List.of(a.topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(a.topic);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw new Fail("describe topic", e.getCause());
                    }
                }
                if (last != null && last.partitions().size() == a.partitions && allLed(last)) {
                    break;
                }
                if (a.expired()) {
                    throw new Fail("describe topic: " + last);
                }
                Thread.sleep(100);
            }
            await(adm.deleteTopics(List.of(a.topic)).all(), "delete topic");
            while (true) {
                try {
                    Map<String, TopicDescription> d = adm.describeTopics(List.of(a.topic)).allTopicNames().get(10, TimeUnit.SECONDS);
                    if (a.expired()) {
                        throw new Fail("deleted topic still described: " + d.get(a.topic));
                    }
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        return;
                    }
                    throw new Fail("describe deleted topic", e.getCause());
                }
                Thread.sleep(100);
            }
        }
    }

    private static boolean allLed(TopicDescription d) {
        for (TopicPartitionInfo p : d.partitions()) {
            if (p.leader() == null || p.leader().isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private static void await(KafkaFuture<Void> f, String what) throws InterruptedException {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new Fail(what + ": no answer within 10s");
        } catch (ExecutionException e) {
            throw new Fail(what, e.getCause());
        }
    }
}
