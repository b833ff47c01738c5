// The JVM oracle for quell hunt: runs Log4j 2.14.1's own StrSubstitutor, Interpolator and
// MessagePatternConverter with a recording JNDI lookup.
//
// Protocol (OracleProtocol.java): one payload per stdin line, base64 (UTF-8 text). For each
// payload one stdout line:
//   <single-status> TAB <single-names> TAB <rescan-status> TAB <rescan-names>
// status is "ok" or "error:<ExceptionClass>"; names are the recorded JNDI lookup keys, a list
// field (each base64 encoded and prefixed with '=', joined by ','), in call order with duplicates.
//
// The environment is fixed so that quell's defaults can match it: `env` is empty, `sys` knows
// path.separator, file.separator and line.separator (Unix values) and answers <sys:KEY> for the
// properties every JVM sets (OracleProtocol.ALWAYS_SET), the properties map holds
// hostName=<HOSTNAME>. Every other lookup is Log4j's own plugin (date, lower, upper, java, ...).

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.DefaultConfiguration;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.core.lookup.Interpolator;
import org.apache.logging.log4j.core.lookup.MapLookup;
import org.apache.logging.log4j.core.lookup.StrLookup;
import org.apache.logging.log4j.core.lookup.StrSubstitutor;
import org.apache.logging.log4j.core.pattern.MessagePatternConverter;
import org.apache.logging.log4j.message.SimpleMessage;

public class HuntOracle {
    static final List<String> RECORDED = new ArrayList<>();

    static final class Recorder implements StrLookup {
        public String lookup(String key) { RECORDED.add(key); return null; }
        public String lookup(LogEvent event, String key) { RECORDED.add(key); return null; }
    }

    static final class Fixed implements StrLookup {
        final Map<String, String> map;
        Fixed(Map<String, String> map) { this.map = map; }
        public String lookup(String key) { return map.get(key); }
        public String lookup(LogEvent event, String key) { return map.get(key); }
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.US);
        Map<String, String> props = new HashMap<>();
        props.put("hostName", "<HOSTNAME>");
        Interpolator interpolator = new Interpolator(new MapLookup(props), new ArrayList<String>());
        Field f = Interpolator.class.getDeclaredField("strLookupMap");
        f.setAccessible(true);
        Map<String, StrLookup> lookups = (Map<String, StrLookup>) f.get(interpolator);
        lookups.put("jndi", new Recorder());
        lookups.put("env", new Fixed(new HashMap<>()));
        lookups.put("sys", new Fixed(OracleProtocol.sys()));
        if (args.length > 0 && args[0].equals("--list-lookups")) {
            System.out.println(new java.util.TreeSet<>(lookups.keySet()));
            return;
        }
        final StrSubstitutor subst = new StrSubstitutor(interpolator);
        DefaultConfiguration config = new DefaultConfiguration() {
            @Override
            public StrSubstitutor getStrSubstitutor() { return subst; }
        };
        MessagePatternConverter converter = MessagePatternConverter.newInstance(config, new String[0]);

        OracleProtocol.serve(payload -> {
            LogEvent event = Log4jLogEvent.newBuilder().setLoggerName("oracle").setLevel(Level.INFO)
                    .setMessage(new SimpleMessage(payload)).build();
            RECORDED.clear();
            String status = "ok";
            try {
                subst.replace(event, payload);
            } catch (Throwable t) {
                status = OracleProtocol.error(t);
            }
            String single = status + '\t' + OracleProtocol.encode(RECORDED);
            RECORDED.clear();
            status = "ok";
            try {
                converter.format(event, new StringBuilder());
            } catch (Throwable t) {
                status = OracleProtocol.error(t);
            }
            return single + '\t' + status + '\t' + OracleProtocol.encode(RECORDED);
        });
    }
}
