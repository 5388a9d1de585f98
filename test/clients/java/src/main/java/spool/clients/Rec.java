package spool.clients;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * One record as the matrix's JSON-lines files carry it: the field names are
 * the spec's, and Jackson writes byte arrays as base64 and null as null.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
final class Rec {
    public int p;
    public long o;
    public byte[] k;
    public byte[] v;
    public List<Hdr> h = new ArrayList<>();
    public long ts;

    /** One record header. */
    static final class Hdr {
        public String k;
        public byte[] v;

        Hdr() { }

        Hdr(String k, byte[] v) {
            this.k = k;
            this.v = v;
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();

    static Rec of(ConsumerRecord<byte[], byte[]> r) {
        Rec out = new Rec();
        out.p = r.partition();
        out.o = r.offset();
        out.k = r.key();
        out.v = r.value();
        out.ts = r.timestamp();
        for (Header hd : r.headers()) {
            out.h.add(new Hdr(hd.key(), hd.value()));
        }
        return out;
    }

    RecordHeaders headers() {
        RecordHeaders hs = new RecordHeaders();
        if (h != null) {
            for (Hdr hd : h) {
                hs.add(hd.k, hd.v);
            }
        }
        return hs;
    }

    static List<Rec> read(String path) {
        List<Rec> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                out.add(JSON.readValue(line, Rec.class));
            }
        } catch (IOException e) {
            throw new Fail("read records", e);
        }
        return out;
    }

    /** Writes one JSON value per line. */
    static void writeLines(String path, List<?> values) {
        try (BufferedWriter w = Files.newBufferedWriter(Path.of(path), StandardCharsets.UTF_8)) {
            for (Object v : values) {
                w.write(JSON.writeValueAsString(v));
                w.newLine();
            }
        } catch (IOException e) {
            throw new Fail("write output", e);
        }
    }

    static Map<Integer, Integer> perPartition(List<Rec> recs) {
        Map<Integer, Integer> m = new HashMap<>();
        for (Rec r : recs) {
            m.merge(r.p, 1, Integer::sum);
        }
        return m;
    }
}
