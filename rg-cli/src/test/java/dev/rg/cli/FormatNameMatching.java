package dev.rg.cli;

import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import dev.rg.api.format.WeightFormat;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * The rule that backends decide what to do with a weight format from its typed {@code FormatLayout}, never by
 * matching its name: no method (or constructor, or static initialiser) of a backend both reads
 * {@link WeightFormat#name()} and compares strings ({@code equals}, {@code contains}, {@code startsWith}, a
 * {@code switch} on a string, which compiles to {@code hashCode} + {@code equals}, ...) or looks a key up in a map or
 * a collection. Reading the name for a message or to list supported formats stays allowed.
 *
 * <p>It is a per-method check (bytecode has no data flow): a name handed to a helper that matches it elsewhere
 * escapes it; the typed layout leaves a backend no string to match there anyway.
 */
final class FormatNameMatching {
    private FormatNameMatching() {}

    private static final Set<String> STRING_MATCHES = Set.of("equals", "equalsIgnoreCase", "contains", "startsWith",
            "endsWith", "matches", "hashCode", "compareTo", "indexOf", "regionMatches", "contentEquals");
    private static final Set<String> LOOKUPS = Set.of("get", "getOrDefault", "containsKey", "contains");

    /** The rule for the code in {@code packages}. */
    static ArchRule rule(String... packages) {
        return ArchRuleDefinition.codeUnits().that().areDeclaredInClassesThat().resideInAnyPackage(packages)
                .should(new ArchCondition<JavaCodeUnit>("not match a weight format's name (decide from its layout)") {
                    @Override
                    public void check(JavaCodeUnit unit, ConditionEvents events) {
                        if (unit.getMethodCallsFromSelf().stream().noneMatch(FormatNameMatching::readsFormatName)) {
                            return;
                        }
                        for (JavaMethodCall call : unit.getMethodCallsFromSelf()) {
                            if (matches(call)) {
                                events.add(SimpleConditionEvent.violated(unit, unit.getFullName()
                                        + " reads WeightFormat.name() and calls " + call.getTargetOwner().getSimpleName()
                                        + "." + call.getName() + " " + call.getSourceCodeLocation()
                                        + ": decide from the format's FormatLayout instead"));
                            }
                        }
                    }
                });
    }

    private static boolean readsFormatName(JavaMethodCall call) {
        return call.getName().equals("name") && call.getTarget().getRawParameterTypes().isEmpty()
                && call.getTargetOwner().isAssignableTo(WeightFormat.class);
    }

    private static boolean matches(JavaMethodCall call) {
        if (call.getTargetOwner().isEquivalentTo(String.class)) {
            return STRING_MATCHES.contains(call.getName());
        }
        return LOOKUPS.contains(call.getName())
                && (call.getTargetOwner().isAssignableTo(Map.class) || call.getTargetOwner().isAssignableTo(Collection.class));
    }
}
