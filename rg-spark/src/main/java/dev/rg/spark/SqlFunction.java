package dev.rg.spark;

import dev.rg.core.generate.RowSeeds;
import dev.rg.core.RecurrentGemma;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.types.DataTypes;
import scala.Function1;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * The SQL function {@code rg_generate(prompt [, options])}. Spark's Java UDFs have a fixed arity, so a
 * three-argument UDF (prompt, options, prompt bytes are UTF-8) is registered first and then wrapped by a
 * function builder that supplies a null options map when the query gives only the prompt, and the UTF-8 check.
 */
final class SqlFunction {
    static final String NAME = "rg_generate";

    private SqlFunction() {}

    static void register(SparkSession spark, GenerateSpec spec) {
        UDF3<Object, scala.collection.Map<String, String>, Boolean, Row> udf = (prompt, options, utf8) -> generate(spec, prompt, options, utf8);
        spark.udf().register(NAME, udf, RgSpark.RESULT_TYPE);
        FunctionRegistry registry = ((org.apache.spark.sql.classic.SparkSession) spark).sessionState().functionRegistry();
        // Spark 4.2 keeps temporary functions under a qualified identifier (system.session.name): take the one
        // just registered from the listing rather than guessing its qualification
        FunctionIdentifier id = CollectionConverters.asJava(registry.listFunction()).stream()
                .filter(f -> f.funcName().equals(NAME)).findFirst()
                .orElseThrow(() -> new IllegalStateException("rg-spark: " + NAME + " was not registered"));
        Function1<Seq<Expression>, Expression> withFlag = registry.lookupFunctionBuilder(id).get();
        Function1<Seq<Expression>, Expression> optionalOptions = new AbstractFunction1<>() {
            @Override
            public Expression apply(Seq<Expression> args) {
                List<Expression> given = CollectionConverters.asJava(args);
                if (given.size() != 1 && given.size() != 2) {
                    throw new IllegalArgumentException(NAME + " takes (prompt) or (prompt, map<string,string> options), got "
                            + given.size() + " arguments");
                }
                Expression prompt = given.get(0);
                Expression options = given.size() == 2 ? given.get(1)
                        : Literal.create(null, DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType));
                // the UDF sees a Java string with malformed bytes already replaced: check the bytes in SQL
                Expression utf8 = prompt.dataType() instanceof StringType
                        ? (Expression) FunctionRegistry.builtin().lookupFunction(FunctionIdentifier.apply("is_valid_utf8"),
                                CollectionConverters.asScala(List.of(prompt)).toSeq())
                        : Literal.create(true, DataTypes.BooleanType);
                return withFlag.apply(CollectionConverters.asScala(List.of(prompt, options, utf8)).toSeq());
            }
        };
        registry.createOrReplaceTempFunction(NAME, optionalOptions, "scala_udf");
    }

    /** One row: its seed comes from the options' seed and the prompt, so equal calls give equal rows. */
    private static Row generate(GenerateSpec spec, Object prompt, scala.collection.Map<String, String> options, Boolean utf8) {
        GenerateSpec s = options == null ? spec : spec.withOptions(javaMap(options));
        RecurrentGemma rg = ModelCache.get(s);
        Outcome o = new BatchRunner(rg, s).run(Arrays.asList(prompt), new boolean[] {utf8 == null || utf8}, new long[] {RowSeeds.of(s.seed(), prompt)}).get(0);
        return RowFactory.create(o.values());
    }

    private static Map<String, String> javaMap(scala.collection.Map<String, String> options) {
        return CollectionConverters.asJava(options);
    }
}
