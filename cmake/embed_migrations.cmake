# Embeds db/migrations/*.sql into the binary so a deployed shopd needs no files
# beside it. Generates migrations_embedded.c with one entry per file, sorted by name.
function(shopd_embed_migrations out_var)
    file(GLOB sql_files CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/db/migrations/*.sql")
    list(SORT sql_files)
    set(out "${CMAKE_BINARY_DIR}/generated/migrations_embedded.c")
    add_custom_command(
        OUTPUT "${out}"
        COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${sql_files}"
                -P "${CMAKE_SOURCE_DIR}/cmake/embed_migrations_run.cmake"
        DEPENDS ${sql_files} "${CMAKE_SOURCE_DIR}/cmake/embed_migrations_run.cmake"
        COMMENT "Embedding database migrations"
        VERBATIM)
    set(${out_var} "${out}" PARENT_SCOPE)
endfunction()
