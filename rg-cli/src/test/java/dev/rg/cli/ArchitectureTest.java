package dev.rg.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of DEVELOPERS.md, checked on the compiled main code of every module (this module's
 * test class path holds them all): rg-api needs only the JDK; rg-quant and the backends need only rg-api
 * (a backend may use rg-quant); rg-core never references a backend or a format plugin, it discovers them.
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.rg");
    }

    @Test
    void apiDependsOnTheJdkOnly() {
        noClasses().that().resideInAPackage("dev.rg.api..")
                .should().dependOnClassesThat().resideOutsideOfPackages("dev.rg.api..", "java..", "javax.annotation..")
                .check(classes);
    }

    @Test
    void quantDependsOnApiOnly() {
        noClasses().that().resideInAPackage("dev.rg.quant..")
                .should().dependOnClassesThat().resideOutsideOfPackages("dev.rg.quant..", "dev.rg.api..", "java..")
                .check(classes);
    }

    @Test
    void backendsDependOnApiAndQuantOnly() {
        noClasses().that().resideInAPackage("dev.rg.backend..")
                .should().dependOnClassesThat().resideOutsideOfPackages("dev.rg.backend..", "dev.rg.api..", "dev.rg.quant..",
                        "java..", "jdk.incubator.vector..")
                .check(classes);
    }

    @Test
    void coreNeverReferencesABackendOrAFormatPlugin() {
        noClasses().that().resideInAPackage("dev.rg.core..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.rg.backend..", "dev.rg.quant..", "dev.rg.cli..",
                        "dev.rg.conformance..", "dev.rg.bench..")
                .check(classes);
    }

    @Test
    void serverUsesCoreAndApiButNeverABackend() {
        noClasses().that().resideInAPackage("dev.rg.server..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.rg.backend..", "dev.rg.quant..", "dev.rg.cli..",
                        "dev.rg.conformance..", "dev.rg.bench..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.rg.core..")
                .should().dependOnClassesThat().resideInAPackage("dev.rg.server..")
                .check(classes);
    }

    @Test
    void backendsDoNotKnowEachOther() {
        noClasses().that().resideInAPackage("dev.rg.backend.vector..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.rg.backend.cuda..", "dev.rg.backend.tornado..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.rg.backend.cuda..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.rg.backend.vector..", "dev.rg.backend.tornado..")
                .check(classes);
    }

    @Test
    void backendsDecideFromTheLayoutNotTheFormatName() {
        FormatNameMatching.rule("dev.rg.backend..").check(classes);
    }
}
