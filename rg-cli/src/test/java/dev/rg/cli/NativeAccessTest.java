package dev.rg.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The launcher grants native access only to {@code dev.rg.backend.cuda} (and TornadoVM's modules). A restricted FFM
 * method called from any other rg module prints four JVM warnings to the user (an empty model.safetensors did,
 * through {@code MemorySegment.reinterpret}) and will be blocked by a future JDK, so no other module may call one.
 */
class NativeAccessTest {
    private static final Set<String> RESTRICTED_OWNERS = Set.of("java.lang.foreign.MemorySegment", "java.lang.foreign.Linker",
            "java.lang.foreign.SymbolLookup", "java.lang.foreign.AddressLayout", "java.lang.ModuleLayer$Controller");
    private static final Set<String> RESTRICTED_NAMES = Set.of("reinterpret", "nativeLinker", "libraryLookup", "withTargetLayout",
            "enableNativeAccess");

    @Test
    void onlyTheNativeBackendsCallRestrictedMethods() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.rg");
        noClasses().that().resideOutsideOfPackages("dev.rg.backend.cuda..", "dev.rg.backend.tornado..")
                .should().callMethodWhere(DescribedPredicate.describe("a restricted FFM method",
                        (JavaCall<?> call) -> RESTRICTED_OWNERS.contains(call.getTargetOwner().getName())
                                && RESTRICTED_NAMES.contains(call.getName())))
                .check(classes);
    }
}
