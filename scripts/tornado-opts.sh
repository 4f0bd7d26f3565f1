# Sourced by ./rg and by the packed runtime's launcher (rg-backend-tornado/scripts/pack-runtime.sh) with
# TORNADOVM_HOME set: appends TornadoVM's jars to MODULE_PATH and fills TORNADO_OPTS with the JVM flags its runtime
# needs (JVMCI, the Graal compiler jars, export lists, native library path, the SDK's driver modules).
if [ ! -d "$TORNADOVM_HOME/share/java/tornado" ] || [ ! -f "$TORNADOVM_HOME/etc/exportLists/common-exports" ]; then
  echo "rg: TORNADOVM_HOME=$TORNADOVM_HOME is not a TornadoVM SDK (no share/java/tornado or etc/exportLists)" >&2; exit 1
fi
TORNADO_BACKENDS="$(sed -n 's/^tornado.backends=//p' "$TORNADOVM_HOME/etc/tornado.backend" 2>/dev/null || true)"
# TornadoVM loads every driver module it can see and aborts when one's native library cannot load: the PTX driver
# needs the NVIDIA driver's libcuda.so.1, so without it the PTX jars stay off the module path
case ",${TORNADO_BACKENDS:-}," in *,ptx-backend,*)
  HAVE_CUDA=""
  ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' && HAVE_CUDA=1
  IFS=: read -r -a LDP <<< "${LD_LIBRARY_PATH:-}"
  for d in ${LDP[@]+"${LDP[@]}"}; do [ -n "$d" ] && [ -e "$d/libcuda.so.1" ] && HAVE_CUDA=1; done
  if [ -z "$HAVE_CUDA" ]; then
    echo "rg: TornadoVM's PTX backend skipped: no NVIDIA driver (libcuda.so.1)" >&2
    TORNADO_BACKENDS="$(echo ",$TORNADO_BACKENDS," | sed 's/,ptx-backend,/,/; s/^,//; s/,$//')"
  fi ;; esac
for j in "$TORNADOVM_HOME"/share/java/tornado/*.jar; do
  case "$(basename "$j")" in tornado-drivers-ptx*) case ",${TORNADO_BACKENDS:-}," in *,ptx-backend,*) ;; *) continue ;; esac ;; esac
  MODULE_PATH="$MODULE_PATH:$j"
done
TORNADO_MODULES="ALL-SYSTEM,tornado.runtime,tornado.annotation,tornado.drivers.common"
TORNADO_OPTS=(-XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI --enable-preview "-Djava.library.path=$TORNADOVM_HOME/lib"
  -Dtornado.load.api.implementation=uk.ac.manchester.tornado.runtime.tasks.TornadoTaskGraph
  -Dtornado.load.runtime.implementation=uk.ac.manchester.tornado.runtime.TornadoCoreRuntime
  -Dtornado.load.tornado.implementation=uk.ac.manchester.tornado.runtime.common.Tornado
  -Dtornado.load.annotation.implementation=uk.ac.manchester.tornado.annotation.ASMClassVisitor
  -Dtornado.load.annotation.parallel=uk.ac.manchester.tornado.api.annotations.Parallel
  -Dtornado.recover.bailout=false --upgrade-module-path "$TORNADOVM_HOME/share/java/graalJars"
  "@$TORNADOVM_HOME/etc/exportLists/common-exports")
case ",${TORNADO_BACKENDS:-opencl-backend}," in *,opencl-backend,*) TORNADO_MODULES="$TORNADO_MODULES,tornado.drivers.opencl"
  TORNADO_OPTS+=("@$TORNADOVM_HOME/etc/exportLists/opencl-exports" --enable-native-access=tornado.drivers.opencl) ;; esac
case ",${TORNADO_BACKENDS:-}," in *,ptx-backend,*) TORNADO_MODULES="$TORNADO_MODULES,tornado.drivers.ptx"
  TORNADO_OPTS+=("@$TORNADOVM_HOME/etc/exportLists/ptx-exports" --enable-native-access=tornado.drivers.ptx) ;; esac
TORNADO_OPTS+=(--add-modules "$TORNADO_MODULES")
