package dev.rg.spark;

import dev.rg.core.RecurrentGemma;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
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
 * The SQL function {@code rg_generate(prompt [, options])}. Spark's Java UDFs have a fixed arity, so the
 * two-argument UDF is registered first and then wrapped by a function builder that supplies a null options map
 * when the query gives only the prompt.
 */
final class SqlFunction {
    static final String NAME = "rg_generate";

    private SqlFunction() {}

    static void register(SparkSession spark, GenerateSpec spec) {
        UDF2<Object, scala.collection.Map<String, String>, Row> udf = (prompt, options) -> generate(spec, prompt, options);
        spark.udf().register(NAME, udf, RgSpark.RESULT_TYPE);
        FunctionRegistry registry = ((org.apache.spark.sql.classic.SparkSession) spark).sessionState().functionRegistry();
        FunctionIdentifier id = FunctionIdentifier.apply(NAME);
        Function1<Seq<Expression>, Expression> twoArgs = registry.lookupFunctionBuilder(id).get();
        Function1<Seq<Expression>, Expression> optionalOptions = new AbstractFunction1<>() {
            @Override
            public Expression apply(Seq<Expression> args) {
                List<Expression> given = CollectionConverters.asJava(args);
                if (given.size() == 1) {
                    Expression noOptions = Literal.create(null, DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType));
                    return twoArgs.apply(CollectionConverters.asScala(List.of(given.get(0), noOptions)).toSeq());
                }
                if (given.size() != 2) {
                    throw new IllegalArgumentException(NAME + " takes (prompt) or (prompt, map<string,string> options), got "
                            + given.size() + " arguments");
                }
                return twoArgs.apply(args);
            }
        };
        registry.createOrReplaceTempFunction(NAME, optionalOptions, "scala_udf");
    }

    /** One row: its seed comes from the options' seed and the prompt, so equal calls give equal rows. */
    private static Row generate(GenerateSpec spec, Object prompt, scala.collection.Map<String, String> options) {
        GenerateSpec s = options == null ? spec : spec.withOptions(javaMap(options));
        RecurrentGemma rg = ModelCache.get(s);
        Outcome o = new BatchRunner(rg, s).run(Arrays.asList(prompt), new long[] {RowSeeds.of(s.seed(), prompt)}).get(0);
        return RowFactory.create(o.values());
    }

    private static Map<String, String> javaMap(scala.collection.Map<String, String> options) {
        return CollectionConverters.asJava(options);
    }
}
